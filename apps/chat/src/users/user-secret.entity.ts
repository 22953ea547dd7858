import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { bigint } from '../shared/bigint.transformer';

/** A named secret of a user; the JSON value is stored encrypted (AES-256-GCM with the installation key). */
@Entity('user_secrets')
export class UserSecretEntity {
  @PrimaryColumn('bigint', { name: 'user_id', transformer: bigint })
  userId!: number;

  @PrimaryColumn('text')
  name!: string;

  @Column('text', { name: 'value_encrypted' })
  valueEncrypted!: string;

  @UpdateDateColumn({ name: 'updated_time', type: 'timestamptz' })
  updatedTime!: Date;
}
