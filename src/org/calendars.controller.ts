import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiMissing, ApiSignedIn } from '../common/api-docs';
import { Page, PageQuery } from '../common/cursor';
import { ParseIdPipe } from '../common/validation';
import type { Actor } from '../identity/actor';
import { CurrentActor, Roles } from '../identity/auth.decorators';
import { CalendarView, CreateCalendarDto, UpdateCalendarDto } from './calendar.dto';
import { CalendarsService } from './calendars.service';

@ApiTags('organisation')
@ApiSignedIn()
@Roles('admin', 'ops')
@Controller('calendars')
export class CalendarsController {
  constructor(private readonly calendars: CalendarsService) {}

  @Post()
  @ApiCreatedResponse({ type: CalendarView })
  create(@Body() body: CreateCalendarDto): Promise<CalendarView> {
    return this.calendars.create(body);
  }

  @Get()
  @ApiOkResponse({ type: Page<CalendarView> })
  list(@Query() query: PageQuery): Promise<Page<CalendarView>> {
    return this.calendars.list(query.cursor, query.limit);
  }

  @Get(':id')
  @ApiOkResponse({ type: CalendarView })
  @ApiMissing('Calendar')
  get(@Param('id', ParseIdPipe) id: string): Promise<CalendarView> {
    return this.calendars.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: CalendarView })
  @ApiMissing('Calendar')
  update(@CurrentActor() actor: Actor, @Param('id', ParseIdPipe) id: string, @Body() body: UpdateCalendarDto): Promise<CalendarView> {
    return this.calendars.update(actor, id, body);
  }
}
