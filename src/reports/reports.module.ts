import { Module } from '@nestjs/common';
import { ReportListsRepository } from './report-lists.repository';
import { ReportListsService } from './report-lists.service';
import { ReportsController } from './reports.controller';
import { RootCauseRepository } from './root-cause.repository';
import { RootCauseService } from './root-cause.service';
import { SlaReportRepository } from './sla-report.repository';
import { SlaReportService } from './sla-report.service';

@Module({
  controllers: [ReportsController],
  providers: [SlaReportRepository, SlaReportService, RootCauseRepository, RootCauseService, ReportListsRepository, ReportListsService],
  exports: [SlaReportService],
})
export class ReportsModule {}
