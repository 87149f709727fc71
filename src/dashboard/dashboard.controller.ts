import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { Controller, Get, Header, Param, Res, StreamableFile } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { notFound } from '../common/domain-error';
import { Public } from '../identity/auth.decorators';
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_SCRIPT } from './dashboard-page';

// Chart.js's exports map hides dist/; its main entry sits beside the UMD build there.
const CHART_JS = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');

const TEXT_ASSETS: Record<string, { type: string; body: string }> = {
  'dashboard.js': { type: 'text/javascript; charset=utf-8', body: DASHBOARD_SCRIPT },
  'dashboard.css': { type: 'text/css; charset=utf-8', body: DASHBOARD_CSS },
};

/**
 * The ops dashboard at /dashboard (outside /api/v1). The page and its assets are public; the
 * data behind them is not — the page signs in and reads the reports API with a bearer token.
 */
@ApiExcludeController()
@Public()
@Controller('dashboard')
export class DashboardController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  page(): string {
    return DASHBOARD_HTML;
  }

  @Get('assets/:asset')
  asset(@Param('asset') asset: string, @Res({ passthrough: true }) response: FastifyReply): StreamableFile | string {
    void response.header('Cache-Control', 'public, max-age=300');
    if (asset === 'chart.umd.min.js') {
      void response.header('Content-Type', 'text/javascript; charset=utf-8');
      return new StreamableFile(createReadStream(CHART_JS));
    }
    const text = Object.hasOwn(TEXT_ASSETS, asset) ? TEXT_ASSETS[asset] : undefined;
    if (!text) throw notFound('Dashboard asset');
    void response.header('Content-Type', text.type);
    return text.body;
  }
}
