// `npm run build`: the widget bundle and its manifest in dist/, and the agent console.
import { buildConsole } from "./console/bundle.js";
import { buildWidget } from "./widget/bundle.js";

const { manifest } = await buildWidget();
const w = manifest.widget;
console.log(`dist/${w.file}: ${w.bytes} bytes, ${w.gzip_bytes} gzipped, integrity ${w.integrity}`);
const c = await buildConsole();
if (c.imports.length > 0) throw new Error(`the console bundle still imports: ${c.imports.join(", ")}`);
console.log(`dist/console/app.js: ${c.bytes} bytes`);
