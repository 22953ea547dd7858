import { Column, CreateDateColumn, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigint } from '../shared/bigint.transformer';
import { SessionState } from './user-session.entity';

/** A user session "inside" one channel (the user entered the channel); listed by the Platform API. */
@Entity('chat_sessions')
export class ChatSessionEntity {
  @PrimaryColumn('bigint', { generatedIdentity: 'ALWAYS', transformer: bigint })
  @Generated('increment')
  id!: number;

  @Column('bigint', { name: 'application_id', transformer: bigint })
  applicationId!: number;

  @Column('bigint', { name: 'user_session_id', transformer: bigint })
  userSessionId!: number;

  @Column('bigint', { name: 'user_id', transformer: bigint })
  userId!: number;

  @Column('bigint', { name: 'channel_id', transformer: bigint })
  channelId!: number;

  @Column('text', { default: 'ACTIVE' })
  state!: SessionState;

  @CreateDateColumn({ name: 'created_time', type: 'timestamptz' })
  createdTime!: Date;

  @Column('timestamptz', { name: 'end_time', nullable: true })
  endTime!: Date | null;
}
