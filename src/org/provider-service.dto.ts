import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength } from 'class-validator';
import { IsIsoDuration, IsOmittable } from '../common/validators';

const CODE = /^[A-Za-z0-9_-]{1,32}$/;

export class CreateServiceDto {
  @ApiProperty({ format: 'uuid', description: 'the provider department' })
  @IsUUID('all', { message: 'must be a department id (UUID)' })
  departmentId: string;

  @ApiProperty({ example: 'BOUQUET' })
  @IsString({ message: 'must be a string' })
  @Matches(CODE, { message: 'must be 1-32 letters, digits, - or _' })
  code: string;

  @ApiProperty({ example: 'Bouquet for an order' })
  @IsString({ message: 'must be a string' })
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(5000)
  description?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'PT2H', description: 'expected business time to deliver; used by chains' })
  @IsOptional()
  @IsIsoDuration()
  leadTime?: string | null;
}

export class UpdateServiceDto {
  @ApiPropertyOptional()
  @IsOmittable()
  @IsString({ message: 'must be a string' })
  @Matches(CODE, { message: 'must be 1-32 letters, digits, - or _' })
  code?: string;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsString({ message: 'must be a string' })
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(5000)
  description?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'PT2H' })
  @IsOptional()
  @IsIsoDuration()
  leadTime?: string | null;

  @ApiPropertyOptional({ description: 'false: no new requests may be raised' })
  @IsOmittable()
  @IsBoolean({ message: 'must be true or false' })
  active?: boolean;
}

export class ServiceView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) departmentId: string;
  @ApiProperty() code: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ nullable: true, type: String }) leadTime: string | null;
  @ApiProperty() active: boolean;
}
