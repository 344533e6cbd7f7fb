// The reference half of benchmarks/tables_side_by_side.sh: the same point reads with the
// JavaScript SDK (@azure/data-tables, pinned in package.json), printing one JSON line.
// Usage: node benchmarks/tables_point_reads.mjs TABLE_URL TABLE ENTITIES READS CONCURRENCY
import { TableClient, AzureNamedKeyCredential } from "@azure/data-tables";

const [url, tableName, entitiesArg, readsArg, concurrencyArg] = process.argv.slice(2);
const entities = Number(entitiesArg), reads = Number(readsArg), concurrency = Number(concurrencyArg);
const credential = new AzureNamedKeyCredential("devstoreaccount1",
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==");
const client = new TableClient(url, tableName, credential, { allowInsecureConnection: true });

// Same key sequence as the .NET side is not needed: keys are uniform over the same rows.
let seed = 7;
const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const keys = Array.from({ length: reads }, () => Math.floor(random() * entities));

for (let i = 0; i < 200; i++) {
  const k = keys[i % reads];
  await client.getEntity(`e${k % 16}`, `e${k}`);
}

const latencies = new Float64Array(reads);
let next = -1;
const started = process.hrtime.bigint();
await Promise.all(Array.from({ length: concurrency }, async () => {
  let i;
  while ((i = ++next) < reads) {
    const k = keys[i];
    const t = process.hrtime.bigint();
    await client.getEntity(`e${k % 16}`, `e${k}`);
    latencies[i] = Number(process.hrtime.bigint() - t) / 1e6;
  }
}));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
latencies.sort();
console.log(JSON.stringify({
  client: "@azure/data-tables 13.3.2", reads, concurrency,
  per_second: +(reads / seconds).toFixed(1),
  p50_ms: +latencies[Math.floor(reads / 2)].toFixed(3),
  p99_ms: +latencies[Math.floor(reads * 0.99)].toFixed(3),
}));
