import { ModelStore } from '../../model/store.js';

/** `zeek-anomaly models`: the versions in the store, newest last, the active one marked. */
export async function listModelsCommand(options: { dataDir: string; json: boolean }): Promise<number> {
  const store = new ModelStore({ dataDir: options.dataDir });
  const versions = await store.list();
  if (options.json) {
    for (const info of versions) process.stdout.write(`${JSON.stringify(info)}\n`);
    return 0;
  }
  if (versions.length === 0) {
    process.stdout.write(`no models in ${store.root}: train one with 'zeek-anomaly retrain --logs <dir>'\n`);
    return 0;
  }
  for (const info of versions) {
    const m = info.metrics as { preset?: string; rows?: { used?: number }; testLoss?: number; threshold?: { value?: number } };
    process.stdout.write(
      `${info.active ? '*' : ' '} ${info.version}  preset ${m.preset ?? '?'}, ${(m.rows?.used ?? 0).toLocaleString('en-US')} rows, test loss ${m.testLoss?.toFixed(4) ?? '?'}, threshold ${m.threshold?.value?.toFixed(4) ?? '?'}\n`,
    );
  }
  return 0;
}

/** `zeek-anomaly models activate VERSION`: rollback (or roll forward) to a saved version. */
export async function activateModelCommand(version: string, options: { dataDir: string }): Promise<number> {
  const store = new ModelStore({ dataDir: options.dataDir });
  await store.activate(version);
  process.stdout.write(`active model: ${version}\n`);
  return 0;
}
