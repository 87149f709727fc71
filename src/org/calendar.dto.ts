import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { IsIanaTimeZone, IsOmittable } from '../common/validators';

// The same ranges and words as the calendar check (business-time/calendar-definition): a start
// is 00:00–23:59, an end 00:01–24:00 (00:00 passes here and is refused there, in the same words).
const START = /^([01]\d|2[0-3]):[0-5]\d$/;
const END = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const START_MESSAGE = 'must be a time "HH:MM" from 00:00 to 23:59';
const END_MESSAGE = 'must be a time "HH:MM" from 00:01 to 24:00';
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export class WeeklyIntervalDto {
  @ApiProperty({ minimum: 1, maximum: 7, description: 'ISO weekday, Monday = 1' })
  @IsInt({ message: 'must be a whole number from 1 (Monday) to 7 (Sunday)' })
  @Min(1, { message: 'must be a whole number from 1 (Monday) to 7 (Sunday)' })
  @Max(7, { message: 'must be a whole number from 1 (Monday) to 7 (Sunday)' })
  weekday: number;

  @ApiProperty({ example: '09:00' })
  @IsString({ message: 'must be a time HH:MM' })
  @Matches(START, { message: START_MESSAGE })
  start: string;

  @ApiProperty({ example: '17:00', description: '24:00 ends the day' })
  @IsString({ message: 'must be a time HH:MM' })
  @Matches(END, { message: END_MESSAGE })
  end: string;
}

export class HolidayDto {
  @ApiProperty({ example: '2026-12-25' })
  @IsString({ message: 'must be a date YYYY-MM-DD' })
  @Matches(DATE, { message: 'must be a date YYYY-MM-DD' })
  date: string;

  @ApiPropertyOptional({ example: '12:00', description: 'with end: only this part of the day is closed' })
  @IsOptional()
  @IsString({ message: 'must be a time HH:MM' })
  @Matches(START, { message: START_MESSAGE })
  start?: string;

  @ApiPropertyOptional({ example: '24:00' })
  @IsOptional()
  @IsString({ message: 'must be a time HH:MM' })
  @Matches(END, { message: END_MESSAGE })
  end?: string;
}

export class CreateCalendarDto {
  @ApiProperty({ example: 'Design studio hours' })
  @IsString({ message: 'must be a string' })
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiProperty({ example: 'Europe/Amsterdam' })
  @IsIanaTimeZone()
  timezone: string;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  alwaysOpen?: boolean;

  @ApiPropertyOptional({ type: [WeeklyIntervalDto] })
  @IsOptional()
  @IsArray({ message: 'must be a list of {weekday, start, end}' })
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => WeeklyIntervalDto)
  weeklyHours?: WeeklyIntervalDto[];

  @ApiPropertyOptional({ type: [HolidayDto] })
  @IsOptional()
  @IsArray({ message: 'must be a list of {date, start?, end?}' })
  @ArrayMaxSize(2000)
  @ValidateNested({ each: true })
  @Type(() => HolidayDto)
  holidays?: HolidayDto[];
}

export class UpdateCalendarDto {
  @ApiPropertyOptional()
  @IsOmittable()
  @IsString({ message: 'must be a string' })
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsIanaTimeZone()
  timezone?: string;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsBoolean({ message: 'must be true or false' })
  alwaysOpen?: boolean;

  @ApiPropertyOptional({ type: [WeeklyIntervalDto] })
  @IsOmittable()
  @IsArray({ message: 'must be a list of {weekday, start, end}' })
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => WeeklyIntervalDto)
  weeklyHours?: WeeklyIntervalDto[];

  @ApiPropertyOptional({ type: [HolidayDto] })
  @IsOmittable()
  @IsArray({ message: 'must be a list of {date, start?, end?}' })
  @ArrayMaxSize(2000)
  @ValidateNested({ each: true })
  @Type(() => HolidayDto)
  holidays?: HolidayDto[];
}

export class CalendarView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() timezone: string;
  @ApiProperty() alwaysOpen: boolean;
  @ApiProperty({ type: [WeeklyIntervalDto] }) weeklyHours: WeeklyIntervalDto[];
  @ApiProperty({ type: [HolidayDto] }) holidays: HolidayDto[];
  @ApiProperty({ description: 'increases with every change' }) revision: number;
}
