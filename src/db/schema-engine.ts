import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";

type SchemaEngineModule = typeof import("@prisma/schema-engine-wasm");
type WasmExports = Record<string, unknown>;

// Node's WebAssembly global, typed only as far as it is used here.
const { WebAssembly } = globalThis as unknown as {
  WebAssembly: {
    instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: WasmExports } }>;
  };
};

let engineModule: Promise<SchemaEngineModule> | undefined;

/**
 * Prisma's schema engine compiled to WebAssembly. It applies the same
 * `prisma/migrations` folder that `prisma migrate deploy` applies, without the
 * native engine binary that Prisma's CLI would download.
 */
function loadEngineModule(): Promise<SchemaEngineModule> {
  engineModule ??= (async () => {
    const require = createRequire(import.meta.url);
    const bindingsPath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const bindings = (await import(bindingsPath)) as SchemaEngineModule & {
      __wbg_set_wasm(exports: WasmExports): void;
    };
    const wasmBytes = await readFile(path.join(path.dirname(bindingsPath), "schema_engine_bg.wasm"));
    const { instance } = await WebAssembly.instantiate(wasmBytes, {
      "./schema_engine_bg.js": bindings,
    });
    bindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bindings;
  })();
  return engineModule;
}

/** Parses a PostgreSQL URL into the separate fields adapter-pg needs to honour every setting. */
function poolConfig(databaseUrl: string) {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get("schema");
  return {
    config: {
      host: decodeURIComponent(url.hostname),
      port: url.port ? Number(url.port) : 5432,
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: decodeURIComponent(url.pathname.slice(1)) || "postgres",
      max: 1,
    },
    schema: schema ?? undefined,
  };
}

type Adapter = Awaited<ReturnType<PrismaPg["connect"]>>;

/**
 * adapter-pg runs a migration script by splitting it at every ";", which cuts a function body
 * (`$$ … ; … $$`) apart. PostgreSQL takes the whole script in one simple query, in one implicit
 * transaction, as Prisma's native engine sends it.
 */
function runScriptsWhole(adapter: Adapter): void {
  const { client, onError } = adapter as unknown as { client: pg.Pool; onError(error: unknown): never };
  adapter.executeScript = async (script: string) => {
    try {
      await client.query(script);
    } catch (error) {
      onError.call(adapter, error);
    }
  };
}

/** Runs `work` with a schema engine connected to `databaseUrl`, then frees it. */
export async function withSchemaEngine<T>(
  databaseUrl: string,
  datamodels: [path: string, content: string][],
  work: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const { SchemaEngine } = await loadEngineModule();
  const { config, schema } = poolConfig(databaseUrl);
  // The engine never closes the connections it opens: track them to close them ourselves.
  const factory = new PrismaPg(config, { schema });
  const opened: { dispose(): Promise<void> }[] = [];
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    opened.push(adapter);
    runScriptsWhole(adapter);
    return adapter;
  };
  const engine = await SchemaEngine.new({ datamodels }, () => {}, bindMigrationAwareSqlAdapterFactory(factory));
  try {
    return await work(engine);
  } finally {
    engine.free();
    await Promise.all(opened.map((adapter) => adapter.dispose()));
  }
}
