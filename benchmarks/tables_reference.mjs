// The reference half of benchmarks/tables_side_by_side.sh: the same operations with the
// JavaScript SDK (@azure/data-tables, pinned in package.json), printing one JSON line.
// Usage: node benchmarks/tables_reference.mjs read  TABLE_URL TABLE ENTITIES READS CONCURRENCY
//        node benchmarks/tables_reference.mjs tx    TABLE_URL TABLE ROUNDS
//        node benchmarks/tables_reference.mjs query TABLE_URL TABLE ROUNDS
import { TableClient, AzureNamedKeyCredential, odata } from "@azure/data-tables";

const [mode, url, tableName, ...rest] = process.argv.slice(2);
const credential = new AzureNamedKeyCredential("devstoreaccount1",
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==");
const client = new TableClient(url, tableName, credential, { allowInsecureConnection: true });

function row(partitionKey, rowKey, i) {
  const entity = { partitionKey, rowKey };
  for (let f = 0; f < 20; f++) entity[`f${f}`] = { value: String((i * 31 + f) / 7.0), type: "Double" };
  return entity;
}

async function time(operations, concurrency, operation) {
  const latencies = new Float64Array(operations);
  let next = -1;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    let i;
    while ((i = ++next) < operations) {
      const t = process.hrtime.bigint();
      await operation(i);
      latencies[i] = Number(process.hrtime.bigint() - t) / 1e6;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort();
  return { seconds, latencies };
}

function print(operation, operations, concurrency, { seconds, latencies }) {
  console.log(JSON.stringify({
    operation, client: "@azure/data-tables 13.3.2", operations, concurrency,
    per_second: +(operations / seconds).toFixed(1),
    p50_ms: +latencies[Math.floor(operations / 2)].toFixed(3),
    p99_ms: +latencies[Math.floor(operations * 0.99)].toFixed(3),
  }));
}

const transaction = (round) => client.submitTransaction(
  Array.from({ length: 100 }, (_, i) => ["upsert", row(`tx${round & 7}`, `r${i}`, i), "Replace"]));

async function query() {
  let count = 0;
  for await (const _ of client.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${"q"}` } })) count++;
  if (count !== 1000) throw new Error(`the query read ${count} rows`);
}

if (mode === "read") {
  const [entities, reads, concurrency] = rest.map(Number);
  // Same key sequence as the .NET side is not needed: keys are uniform over the same rows.
  let seed = 7;
  const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const keys = Array.from({ length: reads }, () => Math.floor(random() * entities));
  for (let i = 0; i < 200; i++) { const k = keys[i % reads]; await client.getEntity(`e${k % 16}`, `e${k}`); }
  print("read", reads, concurrency, await time(reads, concurrency, (i) => client.getEntity(`e${keys[i] % 16}`, `e${keys[i]}`)));
} else if (mode === "tx") {
  const rounds = Number(rest[0]);
  await transaction(-1);
  print("tx100", rounds, 1, await time(rounds, 1, transaction));
} else if (mode === "query") {
  const rounds = Number(rest[0]);
  await query();
  print("query1000", rounds, 1, await time(rounds, 1, query));
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
