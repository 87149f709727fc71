import { Global, Module } from '@nestjs/common';
import { AgreementsRepository } from '../agreements/agreements.repository';
import { UsersRepository } from '../identity/users.repository';
import { CalendarsRepository } from '../org/calendars.repository';
import { DepartmentsRepository } from '../org/departments.repository';
import { ProviderServicesRepository } from '../org/provider-services.repository';
import { RequestsRepository } from '../requests/requests.repository';

const REPOSITORIES = [
  UsersRepository,
  DepartmentsRepository,
  CalendarsRepository,
  ProviderServicesRepository,
  AgreementsRepository,
  RequestsRepository,
];

/** One repository class per aggregate, shared by every feature (features read each other's rows). */
@Global()
@Module({ providers: REPOSITORIES, exports: REPOSITORIES })
export class RepositoriesModule {}
