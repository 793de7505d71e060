import { isIP } from "node:net";

/** True for 127.0.0.0/8, ::1, and the name "localhost" (which resolves to loopback). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  const kind = isIP(h);
  if (kind === 4) return h.split(".")[0] === "127";
  if (kind === 6) {
    if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped?.[1] !== undefined && mapped[1].split(".")[0] === "127";
  }
  return false;
}

export class RemoteTargetError extends Error {
  constructor(url: URL) {
    super(
      `refusing to send traffic to ${url.host}: not a loopback address. ` +
        "Pass --allow-remote to measure a deployed stack (only a server you operate).",
    );
    this.name = "RemoteTargetError";
  }
}

/**
 * Parse and check a target URL: http(s) only; non-loopback hosts need allowRemote. `flag` names
 * the option in error messages.
 */
export function checkTarget(target: string, allowRemote: boolean, flag = "--url"): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new Error(
      `${flag} ${JSON.stringify(target)} is not a URL: give a full one, e.g. ` +
        'http://127.0.0.1:8080/test (or, for a stack, "$(pulumi stack output url)test")',
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(
      `${flag} ${JSON.stringify(target)}: only http and https URLs are supported, got ${url.protocol}`,
    );
  }
  if (!allowRemote && !isLoopbackHost(url.hostname)) throw new RemoteTargetError(url);
  return url;
}

/**
 * A path with doubled slashes ("$URL/test" where $URL ends in "/" gives "//test", which servers
 * answer 404) with each run of slashes made one. Returns the URL and whether it changed.
 */
export function normalizeUrlPath(url: URL): { url: URL; changed: boolean } {
  const path = url.pathname.replace(/\/{2,}/g, "/");
  if (path === url.pathname) return { url, changed: false };
  const out = new URL(url.href);
  out.pathname = path;
  return { url: out, changed: true };
}
