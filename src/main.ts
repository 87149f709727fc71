import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { AppConfig, ConfigurationError, loadDotEnvIfPresent } from './common/app-config';
import { StartupError } from './database/connection-errors';
import type { AppOptions } from './app.module';
import { ALL_INTERFACES, createHttpApp, createWorkerContext, prepareInfrastructure } from './bootstrap';

/** Start-up problems print one line naming the cause and the fix, never a stack trace. */
export async function start(config: AppConfig, options: AppOptions = {}): Promise<void> {
  await prepareInfrastructure(config);
  if (config.runsApi) {
    const app = await createHttpApp(config, options);
    await app.listen(config.port, ALL_INTERFACES);
    // Through the process's logger, so stdout stays one JSON line per entry.
    new Logger('Handoff').log(`Handoff (${config.role}) listening on http://localhost:${config.port} — API /api/v1, docs /docs, health /health`);
  } else {
    // The BullMQ workers keep the process alive; SIGTERM closes them after the jobs in flight.
    await createWorkerContext(config, options);
    new Logger('Handoff').log('Handoff worker started: timers, mail and the reconciler, no HTTP server');
  }
}

export function exitWithOneLine(error: unknown): never {
  if (error instanceof ConfigurationError || error instanceof StartupError) {
    console.error(error.message);
  } else {
    console.error(`Handoff could not start: ${(error as Error)?.message ?? String(error)}`);
  }
  process.exit(1);
}

if (require.main === module) {
  let config: AppConfig;
  try {
    loadDotEnvIfPresent();
    config = AppConfig.fromEnvironment();
  } catch (error) {
    exitWithOneLine(error);
  }
  start(config).catch(exitWithOneLine);
}
