/**
 * npm run model:import -- <source> --out <model dir> [--labels labels.txt]
 *                         [--preprocess raw|unit|mobilenet|auto] [--name n] [--version v]
 *                         [--tolerance 1e-4] [--json]
 *
 * A trained model (Keras 3 .keras, legacy .h5, a SavedModel directory, an .onnx file) into a
 * verified model directory (import.ts; docs/models.md). Prints the verification table (or, with
 * --json, the manifest); exits 1, having written nothing, when the model is refused or a format
 * disagrees with the reference.
 */
import { Command, Option } from "commander";
import { numberValue } from "../../strategy-bench/src/flags.js";
import { ImportError, importModel, PREPROCESS_CHOICES, type PreprocessChoice } from "./import.js";

const program = new Command("model:import")
  .description(
    "Import a trained model into a model directory the server serves: SavedModel (tfjs-node), tfjs " +
      "(WASM) and ONNX formats, each verified against the reference on fixed inputs; labels.txt; manifest.json.",
  )
  .argument(
    "<source>",
    "a Keras 3 .keras file, a legacy .h5, a SavedModel directory or an .onnx file",
  )
  .requiredOption("--out <dir>", "the model directory to write (e.g. app/models/food11)")
  .option(
    "--labels <file>",
    "labels, one per line in output order (default: Food-11's 11 for 11 outputs)",
  )
  .addOption(
    new Option("--preprocess <mode>", "how the server scales pixels: auto = what the model says")
      .choices(PREPROCESS_CHOICES as string[])
      .default("auto"),
  )
  .option("--name <name>", "the model's name (default: the source's file name)")
  .option("--version <version>", "the model's version (default: its sha256, 12 hex)")
  .option(
    "--tolerance <p>",
    "largest |probability difference| a format may show",
    numberValue("tolerance", 0, { above: true, max: 1, below: true }),
  )
  .option("--json", "print the manifest as JSON instead of the table", false)
  .action(async (source: string, o) => {
    const r = await importModel({
      source,
      out: o.out,
      ...(o.labels ? { labels: o.labels } : {}),
      preprocess: o.preprocess as PreprocessChoice,
      ...(o.name ? { name: o.name } : {}),
      ...(o.version ? { version: o.version } : {}),
      ...(o.tolerance ? { tolerance: o.tolerance } : {}),
    });
    if (o.json) console.log(JSON.stringify(r.manifest));
    else if (r.table) console.log(r.table);
    else console.log(`${r.dir}: up to date (${r.manifest.name} ${r.manifest.version})`);
  });

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof ImportError) {
    console.error(`model:import: refused: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
