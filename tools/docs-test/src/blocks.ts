/**
 * The shell blocks of the documentation and what `npm run test:docs` does with each
 * (docs/docs-tests.md): every fenced `sh` block of README.md and docs/*.md, its markers, and the
 * script the runner gives bash for it. Pure functions, except documentationFiles (it lists docs/):
 * tested in test/blocks.test.ts.
 *
 * Markers are shell comments on the block's first lines, visible to the reader:
 *
 *   # test:docs: skip: <why>; covered by <suite or npm script>
 *   # test:docs: run with <flags> [on <word>]   (repeatable)
 *   # test:docs: writes <path or glob>          (repeatable)
 */

import { readdirSync } from "node:fs";
import path from "node:path";

/** The documentation test:docs reads, relative to `root`: README.md, then docs/*.md in name order. */
export function documentationFiles(root: string): string[] {
  const docs = readdirSync(path.join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`);
  return ["README.md", ...docs];
}

/** One fenced shell block. */
export interface Block {
  /** The Markdown file, relative to the repository. */
  file: string;
  /** 1-based line of the block's first line (after the opening fence). */
  line: number;
  /** The block's lines, markers included. */
  lines: string[];
  /** Where its markers say to skip it: why, and what covers it instead. */
  skip?: { why: string; coveredBy: string };
  /** Flags to append (`on`: only to the commands naming that word; else to every `npm run`). */
  runWith: { flags: string; on?: string }[];
  /** Paths or globs (relative to the repository) the block writes, besides its `--out`s. */
  writes: string[];
}

const SHELL_LANGS = new Set(["sh", "bash", "shell"]);
const MARKER = /^#\s*test:docs:\s*(.*)$/;

/** A marker that is not one of the three forms, or not on the block's first lines. */
export class MarkerError extends Error {}

/** The fenced shell blocks of a Markdown text. */
export function extractBlocks(file: string, text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const fence = open[2] as string;
    let j = i + 1;
    while (j < lines.length && (lines[j] as string).trim() !== fence) j++;
    const body = lines.slice(i + 1, j);
    if (SHELL_LANGS.has(open[3] as string)) blocks.push(parseBlock(file, i + 2, body));
    i = j;
  }
  return blocks;
}

function parseBlock(file: string, line: number, lines: string[]): Block {
  const block: Block = { file, line, lines, runWith: [], writes: [] };
  let top = true;
  lines.forEach((raw, i) => {
    const m = MARKER.exec(raw.trim());
    if (!m) {
      if (raw.trim() !== "") top = false;
      return;
    }
    const where = `${file}:${line + i}`;
    if (!top) throw new MarkerError(`${where}: a test:docs marker goes on the block's first lines`);
    const body = (m[1] as string).trim();
    const skip = /^skip:\s*(.+?);\s*covered by\s+(.+)$/.exec(body);
    const runWith = /^run with\s+(.+?)(?:\s+on\s+([\w:.-]+))?$/.exec(body);
    const writes = /^writes\s+(\S+)$/.exec(body);
    if (skip) {
      block.skip = { why: (skip[1] as string).trim(), coveredBy: (skip[2] as string).trim() };
    } else if (runWith) {
      const on = runWith[2];
      block.runWith.push({ flags: (runWith[1] as string).trim(), ...(on ? { on } : {}) });
    } else if (writes) {
      block.writes.push(writes[1] as string);
    } else {
      throw new MarkerError(
        `${where}: unknown marker "# test:docs: ${body}"; the forms are ` +
          '"skip: <why>; covered by <suite or npm script>", "run with <flags> [on <word>]", "writes <path>"',
      );
    }
  });
  return block;
}

// ---------------------------------------------------------------- shell words

/** A command line cut at its shell separators: `code` segments, each with the separator after it. */
interface Segment {
  code: string;
  /** The separator that ends it ("&&", "||", ";", "&", "|") or a comment ("# ..."), or "". */
  after: string;
}

/** Split one line at unquoted `&&`, `||`, `;`, `&`, `|` and a `#` comment (after a blank). */
export function segments(line: string): Segment[] {
  const out: Segment[] = [];
  let cur = "";
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      cur += c;
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"') cur += line[++i] ?? "";
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      cur += c;
      continue;
    }
    if (c === "\\") {
      cur += c + (line[++i] ?? "");
      continue;
    }
    if (c === "#" && (i === 0 || /\s/.test(line[i - 1] as string))) {
      out.push({ code: cur, after: line.slice(i) });
      return out;
    }
    const two = line.slice(i, i + 2);
    // `2>&1`, `>&2`: redirections, not separators.
    const redirect = c === "&" && (line[i - 1] === ">" || line[i + 1] === ">");
    if (two === "&&" || two === "||") {
      out.push({ code: cur, after: two });
      cur = "";
      i++;
    } else if ((c === "&" && !redirect) || c === ";" || c === "|") {
      out.push({ code: cur, after: c });
      cur = "";
    } else cur += c;
  }
  out.push({ code: cur, after: "" });
  return out;
}

const join = (segs: Segment[]) => segs.map((s) => s.code + s.after).join("");

/** The words of a segment (quotes kept: for matching and for the shell, not for evaluating). */
const words = (code: string) => code.trim().split(/\s+/).filter(Boolean);

/** Leading `NAME=value` words (environment assignments) and the command after them. */
function command(code: string): { env: string[]; argv: string[] } {
  const w = words(code);
  let k = 0;
  while (k < w.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[k] as string)) k++;
  return { env: w.slice(0, k), argv: w.slice(k) };
}

const isNpmRun = (argv: string[]) => argv[0] === "npm" && argv[1] === "run";
const isNpmStart = (argv: string[]) => argv[0] === "npm" && argv[1] === "start";

/** Append `flags` to a command: after its `--` for an npm script (one is added if absent). */
function appendFlags(code: string, flags: string, hasDashes: boolean): string {
  const { argv } = command(code);
  const trimmed = code.replace(/\s+$/, "");
  const tail = code.slice(trimmed.length);
  const needsDashes = (isNpmRun(argv) || isNpmStart(argv)) && !hasDashes;
  return `${trimmed}${needsDashes ? " --" : ""} ${flags}${tail || " "}`;
}

// ---------------------------------------------------------------- the script

export interface ScriptOptions {
  /** The port a block's `npm start` serves its API on; its `localhost:8080` URLs point at it. */
  port: number;
  /** The server's admin port (ADMIN_PORT); its `localhost:8081` URLs point at it. */
  adminPort: number;
}

/** What the runner does to a block before bash runs it, line by line (same line count). */
export interface Prepared {
  lines: string[];
  /** What was changed, for the runner's output. */
  notes: string[];
  /** The shell words naming the files the block writes (`--out`, `--markdown`, `>`), unexpanded. */
  outputs: string[];
}

/**
 * The block as bash runs it: the `run with` flags appended, `npm start` started as a server of the
 * runner (`__docs_serve`, which returns once /readyz answers), its `localhost:8080` URLs pointed
 * at the server's port, and `xdg-open <url>` replaced by a check that the page answers.
 */
export function prepare(block: Block, o: ScriptOptions): Prepared {
  const notes: string[] = [];
  const outputs: string[] = [];
  const lines = block.lines.map((l) => (MARKER.test(l.trim()) ? "" : l));
  const starts = lines.some((l) => segments(l).some((s) => isNpmStart(command(s.code).argv)));
  if (starts) {
    for (const [i, l] of lines.entries()) {
      lines[i] = l
        .replace(/\b(localhost|127\.0\.0\.1|0\.0\.0\.0):8080\b/g, `$1:${o.port}`)
        .replace(/\b(localhost|127\.0\.0\.1|0\.0\.0\.0):8081\b/g, `$1:${o.adminPort}`);
    }
  }
  // Logical lines: a command continued with a trailing backslash is read as one; flags go on
  // its last physical line.
  for (let first = 0; first < lines.length; first++) {
    let last = first;
    while (last < lines.length - 1 && /\\\s*$/.test(lines[last] as string)) last++;
    const joined = lines
      .slice(first, last + 1)
      .map((l) => l.replace(/\\\s*$/, " "))
      .join(" ");
    const at = block.line + first;
    const whole = segments(joined);
    const own = segments(lines[last] as string);
    for (const [k, s] of whole.entries()) {
      const { env, argv } = command(s.code);
      if (argv.length === 0) continue;
      outputs.push(...writtenBy(argv));
      // The physical segment this logical one ends in (the same index from the end).
      const target = own[own.length - (whole.length - k)];
      for (const rw of block.runWith) {
        const applies = rw.on ? argv.includes(rw.on) : isNpmRun(argv);
        if (!applies) continue;
        if (!target || (last > first && k < whole.length - own.length)) {
          throw new MarkerError(
            `${block.file}:${at}: cannot append "${rw.flags}" to a command that does not end on its last line`,
          );
        }
        const before = command(target.code).argv;
        // `--` is added when the command (read whole) has none.
        target.code =
          last > first && !argv.includes("--") && isNpmRun(argv)
            ? `${target.code.replace(/\s+$/, "")} -- ${rw.flags} `
            : appendFlags(target.code, rw.flags, before.includes("--") || argv.includes("--"));
        notes.push(`line ${block.line + last}: appended ${rw.flags}`);
      }
      if (isNpmStart(argv) && last === first && target) {
        const lead = target.code.match(/^\s*/)?.[0] ?? "";
        target.code = `${lead}__docs_serve ${at} ${o.port} ${o.adminPort} env ${[...env, ...argv].join(" ")} `;
        if (target.after === "&") target.after = "";
        notes.push(
          `line ${at}: npm start run as a server on ports ${o.port} (API) and ${o.adminPort} (admin), in its own process group, stopped by its PID when the block ends`,
        );
      } else if (argv[0] === "xdg-open" && argv[1] && last === first && target) {
        const lead = target.code.match(/^\s*/)?.[0] ?? "";
        target.code = `${lead}curl -q -fsS -o /dev/null ${argv[1]} `;
        notes.push(
          `line ${at}: xdg-open replaced by a check that ${argv[1]} answers (no browser here)`,
        );
      }
    }
    lines[last] = join(own);
    first = last;
  }
  return { lines, notes, outputs };
}

/** The files a command says it writes: its `--out`/`--markdown` values and `>`/`>>` targets. */
export function writtenBy(argv: string[]): string[] {
  const out: string[] = [];
  argv.forEach((w, i) => {
    const next = argv[i + 1];
    if ((w === "--out" || w === "--markdown") && next && !next.startsWith("-")) out.push(next);
    const eq = /^--(?:out|markdown)=(.+)$/.exec(w);
    if (eq) out.push(eq[1] as string);
    if ((w === ">" || w === ">>") && next) out.push(next);
    const glued = /^>>?([^&>].*)$/.exec(w);
    if (glued) out.push(glued[1] as string);
  });
  return out.filter((p) => p !== "/dev/null" && !p.includes("<"));
}

/** The word the prelude's ERR trap prints on stderr before the failing line of the script. */
const FAILED = "__DOCS_FAILED__";
const FAILED_LINE = new RegExp(`^${FAILED} (\\d+)$`);

/**
 * The script's line in an output line the ERR trap printed (`__DOCS_FAILED__ <line>`: the runner's
 * own, not the block's output), else undefined.
 */
export function failedLine(line: string): number | undefined {
  const m = FAILED_LINE.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** What every block's script starts with: strict mode, the failing line's report, `__docs_serve`. */
const PRELUDE = `set -e -o pipefail
trap '{ set +x; } 2>/dev/null; echo "${FAILED} $LINENO" >&2' ERR
PS4='+ test:docs$ '
__docs_serve() { # __docs_serve <md line> <port> <admin port> <command...>: start a server, return once ready
  { local -; set +x; } 2>/dev/null
  local at=$1 port=$2 admin=$3 log pid i
  shift 3
  log="$DOCS_SCRATCH/server-$at.log"
  PORT=$port ADMIN_PORT=$admin setsid "$@" >"$log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >>"$DOCS_PIDS"
  echo "test:docs: started PORT=$port ADMIN_PORT=$admin $* (pid $pid, its own process group; output: $log)" >&2
  for ((i = 0; i < 600; i++)); do
    if curl -q -fsS -o /dev/null "http://127.0.0.1:$admin/readyz" 2>/dev/null; then
      echo "test:docs: ready on port $port" >&2
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "test:docs: the server exited before it was ready; its output:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "test:docs: not ready within 300 s; its last output:" >&2
  tail -n 40 "$log" >&2
  return 1
}`;

/** The whole script: prelude, the prepared block, then one line per output to report. */
export function script(p: Prepared): { text: string; firstBlockLine: number } {
  // Each command is echoed as it runs (set -x), the block's lines only.
  const head = [...PRELUDE.split("\n"), "set -x"];
  const tail = [
    "{ set +x; } 2>/dev/null",
    ...p.outputs.map((o) => `printf '%s\\n' ${o} >>"$DOCS_WRITES"`),
  ];
  return {
    text: [...head, ...p.lines, "", ...tail, ""].join("\n"),
    firstBlockLine: head.length + 1,
  };
}
