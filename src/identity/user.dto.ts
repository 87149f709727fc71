import { IsOmittable } from '../common/validators';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsOptional, IsString, IsUUID, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { USER_ROLES, type UserRole } from './user.entity';

const lower = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export class LoginDto {
  @ApiProperty({ example: 'pia.head@flowers.example' })
  @Transform(lower)
  @IsEmail({ require_tld: false }, { message: 'must be an email address' })
  @MaxLength(320)
  email: string;

  @ApiProperty({ example: 'handoff-demo' })
  @IsString({ message: 'must be a string' })
  @MinLength(1)
  @MaxLength(200)
  password: string;
}

export class UserView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() email: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: USER_ROLES }) role: UserRole;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) departmentId: string | null;
  @ApiPropertyOptional() active?: boolean;
}

export class LoginAnswer {
  @ApiProperty() accessToken: string;
  @ApiProperty({ description: 'seconds until the token expires' }) expiresIn: number;
  @ApiProperty({ type: UserView }) user: UserView;
}

export class CreateUserDto {
  @ApiProperty({ example: 'dan.designer@flowers.example' })
  @Transform(lower)
  @IsEmail({ require_tld: false }, { message: 'must be an email address' })
  @MaxLength(320)
  email: string;

  @ApiProperty({ example: 'Dan Designer' })
  @IsString({ message: 'must be a string' })
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiProperty({ minLength: 8, maxLength: 200 })
  @IsString({ message: 'must be a string' })
  @MinLength(8, { message: 'must be at least 8 characters' })
  @MaxLength(200)
  password: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'required except for ops and admin' })
  @ValidateIf((o: CreateUserDto) => o.departmentId !== undefined || (o.role !== 'ops' && o.role !== 'admin'))
  @IsUUID('all', { message: 'must be a department id (UUID)' })
  departmentId?: string;

  @ApiProperty({ enum: USER_ROLES })
  @IsIn(USER_ROLES, { message: `must be one of ${USER_ROLES.join(', ')}` })
  role: UserRole;
}

export class UpdateUserDto {
  @ApiPropertyOptional()
  @IsOmittable()
  @IsString({ message: 'must be a string' })
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ minLength: 8 })
  @IsOmittable()
  @IsString({ message: 'must be a string' })
  @MinLength(8, { message: 'must be at least 8 characters' })
  @MaxLength(200)
  password?: string;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String })
  @IsOptional()
  @IsUUID('all', { message: 'must be a department id (UUID)' })
  departmentId?: string | null;

  @ApiPropertyOptional({ enum: USER_ROLES })
  @IsOmittable()
  @IsIn(USER_ROLES, { message: `must be one of ${USER_ROLES.join(', ')}` })
  role?: UserRole;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsBoolean({ message: 'must be true or false' })
  active?: boolean;
}
