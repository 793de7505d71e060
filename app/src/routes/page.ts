// GET /: a small upload page, like the original Flask app's: a form posting field `file` to
// /predict. Without JavaScript the browser shows the JSON answer; with it, the page shows the
// top classes under the form. With the demo model (seeded, untrained) the page says so, above the
// form and beside every answer.
import type { FastifyPluginAsync } from "fastify";

/** True for the model `npm run model:demo` builds (config.ts names it "…-demo", version "demo"). */
export function isDemoModel(name: string, version: string): boolean {
  return version === "demo" || /-demo$/.test(name);
}

const DEMO_NOTICE = `<p id="demo-notice" class="notice"><strong>Demo model:</strong> this server runs the
untrained demo model (seeded random weights). Its answers are meaningless: about 1 in 11 is right, by
chance. Serve a trained model with <code>MODEL_DIR</code> (see the README).</p>`;

const PAGE_TEMPLATE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Food-11 classifier</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  form { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
  img { max-width: 100%; max-height: 16rem; margin-top: 1rem; }
  table { border-collapse: collapse; margin-top: 1rem; }
  td, th { padding: .2rem .8rem; text-align: left; border-bottom: 1px solid #ddd; }
  .error { color: #a00; }
  small { color: #666; }
  .notice { background: #fff4d6; border: 1px solid #e0b84c; padding: .5rem .8rem; }
</style>
</head>
<body>
<h1>Food-11 classifier</h1>
<p>Upload a photo of food (JPEG, PNG or WebP). The model names one of 11 classes:
Bread, Dairy product, Dessert, Egg, Fried food, Meat, Noodles/Pasta, Rice, Seafood, Soup, Vegetable/Fruit.</p>
%NOTICE%
<form id="form" action="/predict" method="post" enctype="multipart/form-data">
  <input type="file" name="file" accept="image/jpeg,image/png,image/webp" required>
  <button type="submit">Classify</button>
</form>
<div id="result" aria-live="polite"></div>
<p><small>API: <code>POST /predict</code> (field <code>file</code> or a raw image body, <code>?topk=1..11</code>),
<code>GET /test</code>.</small></p>
<script>
const form = document.getElementById("form");
const result = document.getElementById("result");
const DEMO = %DEMO%;
function esc(s) { return String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";"); }
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = form.elements.file.files[0];
  if (!file) return;
  result.textContent = "Classifying...";
  try {
    const res = await fetch("/predict?topk=5", { method: "POST", body: new FormData(form) });
    const body = await res.json();
    if (!res.ok) { result.innerHTML = '<p class="error">' + esc(res.status + " " + body.code + ": " + body.message) + "</p>"; return; }
    const rows = body.top.map((t) => "<tr><td>" + esc(t.label) + "</td><td>" + (100 * t.probability).toFixed(1) + " %</td></tr>").join("");
    const caveat = DEMO ? '<p class="notice">Untrained demo model: this label means nothing (about 1 in 11 is right, by chance).</p>' : "";
    result.innerHTML = "<h2>" + esc(body.label) + " (" + (100 * body.probability).toFixed(1) + " %)</h2>" + caveat +
      '<img alt="uploaded image" src="' + URL.createObjectURL(file) + '">' +
      "<table><tr><th>class</th><th>probability</th></tr>" + rows + "</table>" +
      "<p><small>" + (DEMO ? "untrained demo model (" + esc(body.model.name) + ")" : "model " + esc(body.model.name) + ", version " + esc(body.model.version)) + " on " + esc(body.model.backend) +
      ", " + body.timings.totalMs.toFixed(0) + " ms</small></p>";
  } catch (err) {
    result.innerHTML = '<p class="error">' + esc(err) + "</p>";
  }
});
</script>
</body>
</html>
`;

/** The page for a model: the demo notice only for the demo model. */
export function uploadPage(modelName: string, modelVersion: string, demoModel?: boolean): string {
  const demo = demoModel ?? isDemoModel(modelName, modelVersion);
  return PAGE_TEMPLATE.replace("%NOTICE%", demo ? DEMO_NOTICE : "").replace(
    "%DEMO%",
    demo ? "true" : "false",
  );
}

export const pageRoutes: FastifyPluginAsync = async (fastify) => {
  const o = fastify.appOptions;
  const page = uploadPage(o.modelName, o.modelVersion, o.demoModel);
  fastify.get(
    "/",
    { schema: { response: { 200: { type: "string" } } } },
    async (_request, reply) => {
      reply.type("text/html; charset=utf-8");
      return page;
    },
  );
};
