// `npm run build`: the widget bundle and its manifest in dist/.
import { buildWidget } from "./widget/bundle.js";

const { manifest } = await buildWidget();
const w = manifest.widget;
console.log(`dist/${w.file}: ${w.bytes} bytes, ${w.gzip_bytes} gzipped, integrity ${w.integrity}`);
