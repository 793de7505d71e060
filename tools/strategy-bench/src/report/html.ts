/**
 * The one HTML writer of `report`, `plan` and `recommend`: a single self-contained `report.html`
 * a manager opens — the verdict first, then the tables, the charts, the conditions the figures
 * were made in, and the error last. The page needs nothing else: the charts are the SVGs vega
 * rendered, inlined as `data:` images (each its own document, so their ids cannot collide), the
 * style is in the page, and its Content-Security-Policy forbids every request (no script, no
 * network, no font or stylesheet from elsewhere).
 *
 * Text comes in as Markdown — the tables and lines the commands already write to their `.md`
 * files, so each table has one home — and is rendered by marked with every raw HTML tag,
 * image and non-http(s) link turned into escaped text: nothing a run name, an event message or a
 * stack file holds can become markup.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Marked, type Tokens } from "marked";

/** One chart: its title (the image's alt text) and the SVG vega rendered. */
export interface HtmlChart {
  id: string;
  title: string;
  svg: string;
}

/** A part of the page: a heading (plain text) and its body (Markdown: tables, lists, text). */
export interface HtmlSection {
  heading: string;
  markdown: string;
}

export interface HtmlPage {
  title: string;
  /**
   * What the manager reads first: one sentence (inline Markdown) and the lines behind it;
   * `found: false` when there is nothing to pick (no stack meets the SLO): drawn as a warning.
   */
  verdict: { headline: string; lines?: string[]; found?: boolean };
  /** Right after the verdict: what the figures are (Markdown). */
  intro?: string;
  /** Right after the verdict, marked: what makes the figures doubtful (Markdown). */
  caveats?: string;
  /** The tables, in order. */
  sections: HtmlSection[];
  charts: HtmlChart[];
  /** Why there are no charts, when there are none (e.g. "--no-charts"). */
  noCharts?: string;
  /** Where and how the figures were made: machine, CPU, command, date… (plain text pairs). */
  conditions: [label: string, value: string][];
  /** More about the conditions, after their table (e.g. each run's machine). */
  conditionSections?: HtmlSection[];
  /** Last: how far the figures can be trusted (the planner's error band, the method). */
  error: HtmlSection[];
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text as HTML text or attribute value: `& < > " '` escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const markdown = new Marked({
  gfm: true,
  renderer: {
    // Raw HTML in the Markdown (a run name like "<b>") is shown as typed, never interpreted.
    html: ({ text }: Tokens.HTML | Tokens.Tag) => escapeHtml(text),
    // No image from elsewhere: its alt text. (The charts are the page's own `charts`.)
    image: ({ text }: Tokens.Image) => escapeHtml(text),
    link({ href, tokens }: Tokens.Link) {
      const text = this.parser.parseInline(tokens);
      return /^https?:\/\//i.test(href) ? `<a href="${escapeHtml(href)}">${text}</a>` : text;
    },
  },
});

/** Markdown as HTML: marked's GFM, every tag and text escaped (see the file's comment). */
export function markdownHtml(md: string): string {
  return markdown
    .parse(md, { async: false })
    .replace(/<table>/g, '<div class="table"><table>')
    .replace(/<\/table>/g, "</table></div>");
}

/**
 * Markdown (a text, or its lines) cut at its `## ` headings into sections (what precedes the first heading is dropped
 * when blank, else a section headed `untitled`): the `.md` writers' output, reused as it is.
 */
export function markdownSections(md: string | readonly string[], untitled = ""): HtmlSection[] {
  const out: HtmlSection[] = [];
  let current: { heading: string; lines: string[] } = { heading: untitled, lines: [] };
  const flush = () => {
    const body = current.lines.join("\n").trim();
    if (body || current.heading !== untitled)
      out.push({ heading: current.heading, markdown: body });
  };
  for (const line of (typeof md === "string" ? md : md.join("\n")).split("\n")) {
    const h = /^## (.+)$/.exec(line);
    if (h) {
      flush();
      current = { heading: (h[1] as string).trim(), lines: [] };
    } else current.lines.push(line);
  }
  flush();
  return out;
}

/** Inline Markdown (a headline, a list item) as HTML, escaped as `markdownHtml`. */
function inlineHtml(md: string): string {
  return markdown.parseInline(md, { async: false });
}

/** An SVG as a `data:` URI (base64: no character of the SVG needs escaping in the attribute). */
function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, "utf8").toString("base64")}`;
}

const STYLE = `
:root { color-scheme: light; --ink: #1b1b1b; --muted: #555; --rule: #d7d7d7; --band: #f4f6f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--rule); }
h3 { font-size: 16px; margin: 22px 0 8px; }
p.generated { color: var(--muted); margin: 0 0 18px; font-size: 13px; }
section.verdict { background: #eef6ee; border: 1px solid #9ac29a; border-left: 6px solid #2e7d32; border-radius: 6px; padding: 14px 20px; margin: 8px 0 18px; }
section.verdict h2 { margin-top: 0; border: 0; font-size: 15px; text-transform: uppercase; letter-spacing: 0.06em; color: #2e7d32; }
section.verdict p.headline { font-size: 19px; margin: 0 0 8px; }
section.verdict.none { background: #fdecea; border-color: #e0a39c; border-left-color: #c62828; }
section.verdict.none h2 { color: #c62828; }
section.caveats { background: #fff6e5; border: 1px solid #e0b252; border-radius: 6px; padding: 8px 18px; margin: 0 0 18px; }
section.caveats p { margin: 6px 0; }
div.table { overflow-x: auto; margin: 8px 0 14px; }
table { border-collapse: collapse; font-size: 14px; }
th, td { border: 1px solid var(--rule); padding: 5px 10px; vertical-align: top; }
th { background: var(--band); text-align: left; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td[align="right"], th[align="right"] { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.conditions th { width: 12em; }
table.conditions td { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 13px; word-break: break-word; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 0.92em; background: var(--band); padding: 0 3px; border-radius: 3px; }
blockquote { margin: 8px 0; padding: 4px 14px; border-left: 4px solid #e0b252; background: #fffaf0; }
section.charts { display: flex; flex-wrap: wrap; gap: 22px; align-items: flex-start; }
figure.chart { margin: 0; padding: 8px; border: 1px solid var(--rule); border-radius: 6px; background: #fff; width: fit-content; max-width: 100%; }
figure.chart img { display: block; max-width: 100%; height: auto; }
section.error { color: #333; }
`;

/** A section's heading (h2, or h3) and its body. */
const partHtml = (s: HtmlSection, h = "h2") =>
  `<${h}>${escapeHtml(s.heading)}</${h}>\n${markdownHtml(s.markdown)}`;

/** The page: verdict, caveats, tables, charts, conditions, error — in that order. */
export function htmlPage(p: HtmlPage, generatedAt = new Date()): string {
  const verdictLines = p.verdict.lines?.length
    ? `<ul>\n${p.verdict.lines.map((l) => `<li>${inlineHtml(l)}</li>`).join("\n")}\n</ul>`
    : "";
  const intro = p.intro?.trim()
    ? `<section class="intro">\n${markdownHtml(p.intro)}</section>`
    : "";
  const caveats = p.caveats?.trim()
    ? `<section class="caveats" id="caveats">\n${markdownHtml(p.caveats)}</section>`
    : "";
  const charts = p.charts.length
    ? p.charts
        .map(
          (c) =>
            `<figure class="chart" id="chart-${escapeHtml(c.id)}"><img alt="${escapeHtml(c.title)}" src="${svgDataUri(c.svg)}"></figure>`,
        )
        .join("\n")
    : `<p>${escapeHtml(p.noCharts ?? "No chart was drawn.")}</p>`;
  const conditions = p.conditions
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${escapeHtml(p.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(p.title)}</h1>
<p class="generated">Written ${escapeHtml(
    generatedAt
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$/, " UTC"),
  )}; the conditions and the error are at the end.</p>
<section class="verdict${p.verdict.found === false ? " none" : ""}" id="verdict">
<h2>Verdict</h2>
<p class="headline">${inlineHtml(p.verdict.headline)}</p>
${verdictLines}
</section>
${caveats}
${intro}
<div id="tables">
${p.sections.map((s) => `<section class="table">\n${partHtml(s)}</section>`).join("\n")}
</div>
<h2 id="charts-heading">Charts</h2>
<section class="charts" id="charts">
${charts}
</section>
<section class="conditions" id="conditions">
<h2>Conditions</h2>
<div class="table"><table class="conditions">
${conditions}
</table></div>
${(p.conditionSections ?? []).map((s) => partHtml(s, "h3")).join("\n")}
</section>
<section class="error" id="error">
${p.error.map((s) => partHtml(s)).join("\n")}
</section>
</main>
</body>
</html>
`;
}

/** The charts `writeCharts` wrote (their SVG files), with their titles, for the page. */
export async function readHtmlCharts(
  defs: readonly { id: string; title: string }[],
  files: readonly { id: string; svg: string }[],
): Promise<HtmlChart[]> {
  return Promise.all(
    files.map(async (f) => ({
      id: f.id,
      title: defs.find((d) => d.id === f.id)?.title ?? f.id,
      svg: await readFile(f.svg, "utf8"),
    })),
  );
}

/** Write `report.html` into `outDir`; returns its path. */
export async function writeHtmlReport(
  outDir: string,
  page: HtmlPage,
  generatedAt = new Date(),
): Promise<string> {
  const file = join(outDir, "report.html");
  await writeFile(file, htmlPage(page, generatedAt));
  return file;
}
