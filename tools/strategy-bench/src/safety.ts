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

/** Parse and check a target URL: http(s) only; non-loopback hosts need allowRemote. */
export function checkTarget(target: string, allowRemote: boolean): URL {
  const url = new URL(target);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`only http and https URLs are supported, got ${url.protocol}`);
  }
  if (!allowRemote && !isLoopbackHost(url.hostname)) throw new RemoteTargetError(url);
  return url;
}
