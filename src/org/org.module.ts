import { Module } from '@nestjs/common';
import { CalendarsController } from './calendars.controller';
import { CalendarsService } from './calendars.service';
import { DepartmentsController } from './departments.controller';
import { DepartmentsService } from './departments.service';
import { ProviderServicesController } from './provider-services.controller';
import { ProviderServicesService } from './provider-services.service';

@Module({
  controllers: [DepartmentsController, CalendarsController, ProviderServicesController],
  providers: [DepartmentsService, CalendarsService, ProviderServicesService],
})
export class OrgModule {}
