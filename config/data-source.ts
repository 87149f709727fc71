// For the TypeORM CLI (npm run migration:generate / migration:run), built to dist/config/data-source.js.
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';

export default new DataSource(dataSourceOptions(process.env.DATABASE_URL ?? 'postgres://postgres@localhost:5432/handoff'));
