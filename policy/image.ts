// Container image references: [registry[:port]/]repository[:tag][@algorithm:digest].

export interface ImageRef {
  /** Everything before the tag and digest, e.g. "ghcr.io/org/food11-classifier". */
  repository: string;
  tag: string | undefined;
  /** The full digest after "@", e.g. "sha256:<64 hex>". */
  digest: string | undefined;
}

export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Splits an image reference; a ":" after the last "/" starts the tag (a registry port comes before it). */
export function parseImageRef(image: string): ImageRef {
  const at = image.indexOf("@");
  const name = at === -1 ? image : image.slice(0, at);
  const digest = at === -1 ? undefined : image.slice(at + 1);
  const slash = name.lastIndexOf("/");
  const colon = name.indexOf(":", slash + 1);
  if (colon === -1) return { repository: name, tag: undefined, digest };
  return { repository: name.slice(0, colon), tag: name.slice(colon + 1), digest };
}

/** Why `image` is not pinned by a sha256 digest, or undefined when it is. */
export function digestProblem(image: string): string | undefined {
  const ref = parseImageRef(image);
  if (ref.digest === undefined) return "is not pinned by digest (expected <image>@sha256:<64 hex>)";
  if (!SHA256_DIGEST.test(ref.digest)) {
    return `has digest "${ref.digest}", not sha256:<64 lowercase hex>`;
  }
  return undefined;
}

/** Why `image` uses a moving reference (":latest", or neither tag nor digest), or undefined. */
export function movingTagProblem(image: string): string | undefined {
  const ref = parseImageRef(image);
  if (ref.tag === "latest") return 'uses the moving tag ":latest"';
  if (ref.tag === undefined && ref.digest === undefined) {
    return 'has neither tag nor digest (means ":latest")';
  }
  if (ref.tag === "") return "has an empty tag";
  return undefined;
}
