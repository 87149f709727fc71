// `npm start`: the quick start. Creates and migrates the database, seeds the flower shop when
// the organisation is empty, then serves the API and runs the worker in one process.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { prepareInfrastructure } from '../src/bootstrap';
import { AppConfig, loadDotEnvIfPresent } from '../src/common/app-config';
import { dataSourceOptions } from '../src/database/data-source-options';
import { DEMO_PASSWORD, organisationIsEmpty, seedFlowerShop } from '../src/demo/flower-shop';
import { PasswordHasher } from '../src/identity/password-hasher';
import { DevMailbox } from '../src/mail/dev-mailbox';
import { exitWithOneLine, start } from '../src/main';

async function seedWhenEmpty(config: AppConfig): Promise<void> {
  const dataSource = new DataSource(dataSourceOptions(config.databaseUrl, 2));
  await dataSource.initialize();
  try {
    if (await organisationIsEmpty(dataSource)) {
      await seedFlowerShop(dataSource, await new PasswordHasher().hash(DEMO_PASSWORD));
      console.log(`Seeded the flower shop: sign in as clara.clerk@flowers.example (or any demo user) with password "${DEMO_PASSWORD}"`);
    }
  } finally {
    await dataSource.destroy();
  }
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    loadDotEnvIfPresent();
    config = AppConfig.fromEnvironment({ NODE_ENV: 'development', ...process.env });
  } catch (error) {
    exitWithOneLine(error);
  }
  await prepareInfrastructure(config);
  await seedWhenEmpty(config);
  const devMailbox = config.isProduction ? null : await DevMailbox.startIfNobodyListens(config.smtpUrl);
  if (devMailbox) console.log(`Nothing listened at ${config.smtpUrl}: catching escalation mail here; read it at ${config.publicUrl}/dev/mail`);
  await start(config, { devMailbox: devMailbox ?? undefined });
}

main().catch(exitWithOneLine);
