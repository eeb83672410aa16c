import { floorModules, importWorkMillions, measureBundles } from './bench/bundles.ts';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const floor = floorModules();
const { bundles } = measureBundles(1, [floor.sdk.file]);
const counts = await importWorkMillions([{ file: floor.sdk.file }, ...bundles.map((b) => ({ file: b.file, env: b.env }))]);
const [f = 1, ...rest] = counts;
console.log(`RESULT floor ${f.toFixed(1)}`);
bundles.forEach((b, i) => console.log(`RESULT ${b.name} ${rest[i]?.toFixed(1)} ${((rest[i] ?? 0) / f).toFixed(3)} ${b.minifiedKb.toFixed(0)}KB`));
