// Every malformed request gets a 4xx JSON error, and the app keeps serving. The classifier is a
// stub here (the HTTP layer's checks run before it); real-model.test.ts repeats the cases that
// need a real decode (truncated JPEG) on the demo model.
import { once } from "node:events";
import { connect } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BODY_LIMIT, images, multipart, postRaw, type StubClassifier, stubApp } from "./helpers.js";

let app: FastifyInstance;
let stub: StubClassifier;
let jpeg: Buffer;

beforeAll(async () => {
  const built = await stubApp();
  app = built.app;
  stub = built.classifier as StubClassifier;
  jpeg = await images.jpeg();
});
afterAll(() => app.close());

type Case = {
  name: string;
  method?: "POST" | "GET" | "PUT" | "DELETE" | "PATCH";
  url?: string;
  headers?: Record<string, string>;
  payload?: () => Promise<Buffer | string> | Buffer | string;
  status: number;
  code: string;
  message?: RegExp;
  /** Sent to the admin listener (app.admin) instead of the API. */
  admin?: true;
};

const raw = (type: string, make: () => Promise<Buffer> | Buffer | string) => ({
  headers: { "content-type": type },
  payload: make,
});

const cases: Case[] = [
  { name: "empty body, no content type", status: 400, code: "empty_body" },
  {
    name: "empty raw image body",
    ...raw("image/jpeg", () => Buffer.alloc(0)),
    status: 400,
    code: "empty_body",
  },
  {
    name: "non-image bytes as octet-stream",
    ...raw("application/octet-stream", images.garbage),
    status: 415,
    code: "not_an_image",
  },
  {
    name: "lying content type: image/jpeg over random bytes",
    ...raw("image/jpeg", images.garbage),
    status: 415,
    code: "not_an_image",
  },
  {
    name: "lying content type: image/png over a JPEG",
    ...raw("image/png", images.jpeg),
    status: 415,
    code: "content_type_mismatch",
    message: /says image\/png but the bytes are jpeg/,
  },
  {
    name: "a real image in an unsupported format (GIF)",
    ...raw("image/gif", images.gif),
    status: 415,
    code: "not_an_image",
  },
  {
    name: "text body",
    ...raw("text/plain", () => "hello"),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "JSON body",
    ...raw("application/json", () => '{"image":"x"}'),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "raw body over BODY_LIMIT_BYTES",
    ...raw("image/jpeg", () => Buffer.concat([jpeg, Buffer.alloc(BODY_LIMIT)])),
    status: 413,
    code: "body_too_large",
    message: /^the upload is over the limit of 262144 bytes \(0\.25 MiB, BODY_LIMIT_BYTES\)$/,
  },
  {
    name: "pixel bomb (header says 20000x20000)",
    ...raw("image/png", images.pixelBombPng),
    status: 413,
    code: "too_many_pixels",
    message: /20000x20000 = 400000000 pixels, over the limit of 1000000/,
  },
  {
    name: "multipart without the file field (file under another name)",
    ...mp(() => [{ name: "image", filename: "a.jpg", contentType: "image/jpeg", data: jpeg }]),
    status: 400,
    code: "missing_file",
    message: /got a file in: image/,
  },
  {
    name: "multipart with only a text field named file",
    ...mp(() => [{ name: "file", data: "not a file" }]),
    status: 400,
    code: "missing_file",
  },
  {
    name: "multipart with no parts",
    ...mp(() => []),
    status: 400,
    code: "missing_file",
  },
  {
    name: "multipart with two files",
    ...mp(() => [
      { name: "file", filename: "a.jpg", contentType: "image/jpeg", data: jpeg },
      { name: "file", filename: "b.jpg", contentType: "image/jpeg", data: jpeg },
    ]),
    status: 400,
    code: "too_many_files",
  },
  {
    name: "multipart file over the limit",
    ...mp(() => [
      {
        name: "file",
        filename: "big.jpg",
        contentType: "image/jpeg",
        data: Buffer.concat([jpeg, Buffer.alloc(BODY_LIMIT + 1)]),
      },
    ]),
    status: 413,
    code: "body_too_large",
    message: /^the upload is over the limit of 262144 bytes \(0\.25 MiB, BODY_LIMIT_BYTES\)$/,
  },
  {
    name: "multipart empty file",
    ...mp(() => [
      { name: "file", filename: "a.jpg", contentType: "image/jpeg", data: Buffer.alloc(0) },
    ]),
    status: 400,
    code: "empty_body",
  },
  {
    name: "multipart non-image file",
    ...mp(() => [{ name: "file", filename: "a.txt", contentType: "text/plain", data: "hello" }]),
    status: 415,
    code: "not_an_image",
  },
  {
    name: "multipart without a boundary",
    ...raw("multipart/form-data", () => "--x\r\n\r\n"),
    status: 400,
    code: "bad_multipart",
  },
  {
    name: "multipart cut short",
    ...raw(
      "multipart/form-data; boundary=abc",
      () =>
        '--abc\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff',
    ),
    status: 400,
    code: "bad_multipart",
  },
  {
    name: "topk=0",
    url: "/predict?topk=0",
    ...raw("image/jpeg", () => jpeg),
    status: 400,
    code: "invalid_request",
    message: /topk must be >= 1/,
  },
  {
    name: "topk=12",
    url: "/predict?topk=12",
    ...raw("image/jpeg", () => jpeg),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "topk=abc",
    url: "/predict?topk=abc",
    ...raw("image/jpeg", () => jpeg),
    status: 400,
    code: "invalid_request",
  },
  { name: "GET /predict", method: "GET", status: 405, code: "method_not_allowed" },
  { name: "DELETE /predict", method: "DELETE", status: 405, code: "method_not_allowed" },
  { name: "POST /test", method: "POST", url: "/test", status: 405, code: "method_not_allowed" },
  {
    name: "PUT /metrics (admin)",
    method: "PUT",
    url: "/metrics",
    status: 405,
    code: "method_not_allowed",
    admin: true,
  },
  {
    name: "GET /metrics on the API",
    method: "GET",
    url: "/metrics",
    status: 404,
    code: "not_found",
  },
  {
    name: "GET /predict on the admin",
    method: "GET",
    url: "/predict",
    status: 404,
    code: "not_found",
    admin: true,
  },
  { name: "unknown route", method: "GET", url: "/nope", status: 404, code: "not_found" },
  {
    name: "unknown route, POST",
    method: "POST",
    url: "/predict/extra",
    status: 404,
    code: "not_found",
  },
];

function mp(make: () => Parameters<typeof multipart>[0]) {
  return {
    get headers() {
      return multipart([]).headers;
    },
    payload: () => multipart(make()).payload,
  };
}

describe("bad input gets a 4xx JSON error", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const callsBefore = stub.calls;
      const res = await (c.admin ? app.admin : app).inject({
        method: c.method ?? "POST",
        url: c.url ?? "/predict",
        ...(c.headers ? { headers: c.headers } : {}),
        ...(c.payload ? { payload: await c.payload() } : {}),
      });
      expect(res.statusCode).toBe(c.status);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      const body = res.json();
      expect(body).toMatchObject({ statusCode: c.status, code: c.code });
      expect(typeof body.message).toBe("string");
      expect(typeof body.error).toBe("string");
      if (c.message) expect(body.message).toMatch(c.message);
      if (c.status === 405) {
        const allow = res.headers.allow;
        expect(allow).toBe(
          { "/predict": "POST", "/test": "GET, HEAD", "/metrics": "GET, HEAD" }[
            c.url ?? "/predict"
          ],
        );
      }
      // rejected before the classifier ran (no inference wasted on bad input)
      expect(stub.calls).toBe(callsBefore);
    });
  }

  it("keeps serving good requests after all of the above", async () => {
    const res = await postRaw(app, jpeg, "image/jpeg", "/predict?topk=2");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ label: "Vegetable/Fruit", index: 10 });
  });
});

describe("requests Node's HTTP parser rejects", () => {
  async function raw(port: number, text: string): Promise<string> {
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    socket.end(text);
    let out = "";
    socket.setEncoding("utf8");
    socket.on("data", (d) => {
      out += d;
    });
    await once(socket, "close");
    return out;
  }

  it("an unknown method or bad framing gets a 400 JSON error, and the server keeps serving", async () => {
    const built = await stubApp();
    await built.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = built.app.server.address() as { port: number };
    for (const request of [
      "FOO /predict HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /test HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    ]) {
      const res = await raw(port, request);
      expect(res.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
      expect(JSON.parse(res.slice(res.indexOf("\r\n\r\n") + 4))).toEqual({
        statusCode: 400,
        error: "Bad Request",
        code: "bad_http",
        message: "malformed HTTP request",
      });
    }
    expect((await fetch(`http://127.0.0.1:${port}/test`)).status).toBe(200);
    await built.app.close();
  });
});
