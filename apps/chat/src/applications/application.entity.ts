import { Column, CreateDateColumn, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigint } from '../shared/bigint.transformer';

export type FeatureSetting = 'DISABLED' | 'ENABLED';

/** A tenant: its credentials (client secret stored as a scrypt hash), API key and settings. */
@Entity('applications')
export class ApplicationEntity {
  @PrimaryColumn('bigint', { generatedIdentity: 'ALWAYS', transformer: bigint })
  @Generated('increment')
  id!: number;

  @Column('text')
  name!: string;

  @Column('text', { name: 'client_id', unique: true })
  clientId!: string;

  @Column('text', { name: 'client_secret_hash' })
  clientSecretHash!: string;

  @Column('text', { name: 'api_key', unique: true })
  apiKey!: string;

  @Column('text', { name: 'guest_users', default: 'DISABLED' })
  guestUsers!: FeatureSetting;

  @Column('text', { name: 'user_created_channels', default: 'DISABLED' })
  userCreatedChannels!: FeatureSetting;

  @Column('jsonb', { default: () => "'{}'::jsonb" })
  properties!: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_time', type: 'timestamptz' })
  createdTime!: Date;
}
