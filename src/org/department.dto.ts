import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength } from 'class-validator';
import { IsIanaTimeZone, IsOmittable } from '../common/validators';

const CODE = /^[A-Za-z0-9_-]{1,32}$/;

export class CreateDepartmentDto {
  @ApiProperty({ example: 'Design' })
  @IsString({ message: 'must be a string' })
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiProperty({ example: 'DESIGN', description: 'unique short code, 1-32 letters, digits, - or _' })
  @IsString({ message: 'must be a string' })
  @Matches(CODE, { message: 'must be 1-32 letters, digits, - or _' })
  code: string;

  @ApiProperty({ example: 'Europe/Amsterdam' })
  @IsIanaTimeZone()
  timezone: string;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'must be a calendar id (UUID)' })
  calendarId?: string | null;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'must be a user id (UUID)' })
  headUserId?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'owner@flowers.example', description: "the head's own manager: the ladder rung above the head" })
  @IsOptional()
  @IsEmail({ require_tld: false }, { message: 'must be an email address' })
  @MaxLength(320)
  escalationEmail?: string | null;
}

export class UpdateDepartmentDto {
  @ApiPropertyOptional()
  @IsOmittable()
  @IsString({ message: 'must be a string' })
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsString({ message: 'must be a string' })
  @Matches(CODE, { message: 'must be 1-32 letters, digits, - or _' })
  code?: string;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsIanaTimeZone()
  timezone?: string;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String })
  @IsOptional()
  @IsUUID('all', { message: 'must be a calendar id (UUID)' })
  calendarId?: string | null;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String })
  @IsOptional()
  @IsUUID('all', { message: 'must be a user id (UUID)' })
  headUserId?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsEmail({ require_tld: false }, { message: 'must be an email address' })
  @MaxLength(320)
  escalationEmail?: string | null;
}

export class DepartmentView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() code: string;
  @ApiProperty() timezone: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) calendarId: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) headUserId: string | null;
  @ApiProperty({ nullable: true, type: String }) escalationEmail: string | null;
}
