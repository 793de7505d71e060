import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ArgsCheck } from "./contract";
import { show } from "./rules";

/** The type token of {@link InferenceImage}. */
const TYPE = "food11:image:InferenceImage";

/** How to build and push the server's image (a stack's: stacks/schema.ts, `image.build`). */
export interface InferenceImageBuildArgs {
  /** Full image name with tag (food11:imageRegistry/imageRepository:imageTag). */
  imageName: string;
  /** Docker build context, relative to the project root: food11:imageContext. */
  context: string;
  /** Dockerfile, relative to the project root: food11:imageDockerfile. */
  dockerfile: string;
  /** Target platform: food11:imagePlatform. */
  platform: string;
  /**
   * Docker build args (e.g. MODEL_DIR, NODE_IMAGE, LIBTENSORFLOW); none given when empty. MODEL_DIR
   * may be an output (an ImportedModel's `modelDir`).
   */
  args: Record<string, pulumi.Input<string>>;
  /** Registry server the credentials are for (host of food11:imageRegistry). */
  registryServer: string;
  /** Registry user (food11:registryUsername). None: push with Docker's own credential store. */
  username?: pulumi.Input<string>;
  /** Registry password or token (food11:registryPassword); stored as a secret. */
  password?: pulumi.Input<string>;
}

/** Arguments of {@link InferenceImage}: exactly one of `build` or `ref` (checked at construction). */
export interface InferenceImageArgs {
  /** Build the server's Dockerfile and push it; the output pins the pushed digest. Defaults to none. */
  build?: InferenceImageBuildArgs;
  /** A prebuilt image reference to deploy as is; nothing is built. Defaults to none. */
  ref?: string;
  /**
   * Do not build even though `build` is given (e.g. when rendering YAML without a Docker engine):
   * the reference is then `build.imageName`, a tag. Defaults to `false`.
   */
  skipBuild?: boolean;
}

/**
 * The inference server's container image: `docker.Image` (@pulumi/docker v5) building
 * `app/Dockerfile` for linux/amd64 and pushing it, or a prebuilt reference.
 *
 * A built image is deployed by its `repoDigest` (`repo@sha256:...`): the provider hashes the build
 * context, so an unchanged context is no diff, no push and no new digest, hence no rollout.
 */
export class InferenceImage extends pulumi.ComponentResource {
  /** The reference to deploy: `repo@sha256:<digest>` when built, else the given reference. */
  public readonly ref: pulumi.Output<string>;
  /** Whether this stack builds the image (false for a prebuilt reference or when rendering). */
  public readonly built: boolean;
  /** The `docker.Image`, when built. */
  public readonly image?: docker.Image;

  /**
   * @throws pulumi.InputPropertiesError when the args break their contract (see
   * {@link checkInferenceImageArgs}); nothing is registered then.
   */
  constructor(name: string, args: InferenceImageArgs, opts?: pulumi.ComponentResourceOptions) {
    checkInferenceImageArgs(name, args);
    super(TYPE, name, {}, opts);
    const skipBuild = args.skipBuild ?? false;

    if (args.build !== undefined && !skipBuild) {
      const build = args.build;
      const registry =
        build.username !== undefined && build.password !== undefined
          ? {
              server: build.registryServer,
              username: build.username,
              password: pulumi.secret(build.password),
            }
          : undefined;
      this.image = new docker.Image(
        `${name}-image`,
        {
          imageName: build.imageName,
          build: {
            context: build.context,
            dockerfile: build.dockerfile,
            platform: build.platform,
            ...(Object.keys(build.args).length > 0 ? { args: build.args } : {}),
          },
          ...(registry !== undefined ? { registry } : {}),
        },
        { parent: this },
      );
      this.ref = this.image.repoDigest;
      this.built = true;
    } else {
      this.ref = pulumi.output(args.ref ?? args.build?.imageName ?? "");
      this.built = false;
    }

    this.registerOutputs({ ref: this.ref, built: this.built });
  }
}

/**
 * The contract of {@link InferenceImageArgs}: exactly one of `build` or `ref`; `build.imageName` a
 * non-empty image name; `ref` a non-empty reference; `skipBuild` a boolean. Throws a
 * `pulumi.InputPropertiesError` listing every violation.
 */
export function checkInferenceImageArgs(name: string, args: InferenceImageArgs): void {
  const check = new ArgsCheck(TYPE, name);
  const hasBuild = args.build !== undefined;
  const hasRef = args.ref !== undefined;
  if (hasBuild === hasRef) {
    const reason = hasBuild
      ? `both build (imageName ${show(args.build?.imageName)}) and ref ${show(args.ref)} are given: give exactly one of build or ref`
      : "neither build nor ref is given: give exactly one of build or ref";
    check.fail("build", reason);
    check.fail("ref", reason);
  }
  if (hasBuild) {
    check.token(
      "build.imageName",
      args.build?.imageName,
      "an image name such as registry/repo:tag",
    );
  }
  if (hasRef) {
    check.token("ref", args.ref, "an image reference such as registry/repo@sha256:<digest>");
  }
  if (args.skipBuild !== undefined && typeof args.skipBuild !== "boolean") {
    check.fail("skipBuild", `${show(args.skipBuild)} is not allowed: must be true or false`);
  }
  check.throwIfInvalid();
}
