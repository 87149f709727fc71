export type { CalendarDefinition, CalendarProblem, Holiday, WeeklyInterval } from './calendar-definition';
export { isValidTimeZone, validateCalendarDefinition } from './calendar-definition';
export { BeyondHorizonError, BusinessCalendar, InvalidCalendarError, isOutOfReach, NoOpenTimeError } from './business-calendar';
export { MAX_DURATION_SECONDS, formatIsoDuration, parseIsoDuration } from './iso-duration';
