import { Column, CreateDateColumn, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigint } from '../shared/bigint.transformer';

export type UserType = 'PERSON' | 'BOT';
export type CallStatus = 'AVAILABLE' | 'IN_CALL';

/**
 * A chat user of one application. Deleting a user soft-deletes it (`deleted_time`), so messages and memberships
 * that reference it keep their history; a deleted user's name can be reused.
 */
@Entity('users')
export class UserEntity {
  @PrimaryColumn('bigint', { generatedIdentity: 'ALWAYS', transformer: bigint })
  @Generated('increment')
  id!: number;

  @Column('bigint', { name: 'application_id', transformer: bigint })
  applicationId!: number;

  @Column('text')
  name!: string;

  @Column('text', { name: 'display_name' })
  displayName!: string;

  @Column('text', { name: 'display_picture_url', nullable: true })
  displayPictureUrl!: string | null;

  @Column('boolean', { name: 'is_guest', default: false })
  isGuest!: boolean;

  @Column('text', { default: 'PERSON' })
  type!: UserType;

  @Column('jsonb', { default: () => "'{}'::jsonb" })
  properties!: Record<string, unknown>;

  @Column('boolean', { name: 'presence_online', default: false })
  presenceOnline!: boolean;

  @Column('text', { name: 'presence_status', default: 'UNAVAILABLE' })
  presenceStatus!: string;

  @Column('text', { name: 'call_status', nullable: true })
  callStatus!: CallStatus | null;

  @CreateDateColumn({ name: 'created_time', type: 'timestamptz' })
  createdTime!: Date;

  @Column('timestamptz', { name: 'deleted_time', nullable: true })
  deletedTime!: Date | null;
}
