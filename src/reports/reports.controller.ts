import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import accepts from 'accepts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { ApiSignedIn } from '../common/api-docs';
import type { Actor } from '../identity/actor';
import { CurrentActor, Roles } from '../identity/auth.decorators';
import { rootCauseCsv, slaReportCsv, slaTrendCsv } from './report-csv';
import { ReportListsService } from './report-lists.service';
import {
  AtRiskPageView,
  AtRiskQuery,
  EscalationLogQuery,
  EscalationLogView,
  RootCauseQuery,
  RootCauseView,
  SlaReportQuery,
  SlaReportView,
  SlaTrendQuery,
  SlaTrendView,
} from './report.dto';
import { RootCauseService } from './root-cause.service';
import { SlaReportService } from './sla-report.service';

/** `format=csv` wins; otherwise the Accept header decides, JSON when it does not prefer CSV. */
function wantsCsv(format: string | undefined, request: FastifyRequest): boolean {
  if (format) return format === 'csv';
  return accepts(request.raw).type(['application/json', 'text/csv']) === 'text/csv';
}

function sendAs(response: FastifyReply, name: string, csv: string): string {
  void response.header('Content-Type', 'text/csv; charset=utf-8');
  void response.header('Content-Disposition', `attachment; filename="${name}.csv"`);
  return csv;
}

/** The date of an instant in the report's zone: the dates the caller asked for, in the file's name. */
const day = (iso: string, zone = 'UTC') => DateTime.fromISO(iso, { zone }).toISODate();

@ApiTags('reports')
@ApiSignedIn()
@Roles('ops', 'admin', 'head')
@Controller('reports')
export class ReportsController {
  constructor(
    private readonly sla: SlaReportService,
    private readonly rootCause: RootCauseService,
    private readonly lists: ReportListsService,
  ) {}

  @Get('sla')
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: SlaReportView, description: 'one row per group with requests created in [from, to); heads get the rows of their own department' })
  async slaReport(
    @CurrentActor() actor: Actor,
    @Query() query: SlaReportQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ): Promise<SlaReportView | string> {
    void response.header('Vary', 'Accept');
    const report = await this.sla.report(actor, query);
    if (!wantsCsv(query.format, request)) return report;
    return sendAs(response, `sla-${report.groupBy}-${day(report.from, query.timezone)}-${day(report.to, query.timezone)}`, slaReportCsv(report));
  }

  @Get('sla/trend')
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: SlaTrendView, description: 'the SLA report per day or ISO week, bucketed in `timezone`' })
  async slaTrend(
    @CurrentActor() actor: Actor,
    @Query() query: SlaTrendQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ): Promise<SlaTrendView | string> {
    void response.header('Vary', 'Accept');
    const trend = await this.sla.trend(actor, query);
    if (!wantsCsv(query.format, request)) return trend;
    return sendAs(response, `sla-trend-${trend.groupBy}-${trend.interval}-${day(trend.from, trend.timezone)}-${day(trend.to, trend.timezone)}`, slaTrendCsv(trend));
  }

  @Get('root-cause')
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: RootCauseView, description: 'late requests by the department that held them up, most frequent hand-off first' })
  async rootCauseReport(
    @CurrentActor() actor: Actor,
    @Query() query: RootCauseQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ): Promise<RootCauseView | string> {
    void response.header('Vary', 'Accept');
    const report = await this.rootCause.report(actor, query);
    if (!wantsCsv(query.format, request)) return report;
    return sendAs(response, `root-cause-${day(report.from, query.timezone)}-${day(report.to, query.timezone)}`, rootCauseCsv(report));
  }

  @Get('at-risk')
  @ApiOkResponse({ type: AtRiskPageView, description: 'open requests in chains and the chains themselves (one row per end), each least slack first' })
  atRisk(@CurrentActor() actor: Actor, @Query() query: AtRiskQuery): Promise<AtRiskPageView> {
    return this.lists.atRisk(actor, query);
  }

  @Get('escalations')
  @ApiOkResponse({ type: EscalationLogView, description: 'escalations fired, newest first' })
  escalations(@CurrentActor() actor: Actor, @Query() query: EscalationLogQuery): Promise<EscalationLogView> {
    return this.lists.escalations(actor, query);
  }
}
