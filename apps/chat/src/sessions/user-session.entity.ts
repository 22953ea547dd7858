import { Column, CreateDateColumn, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigint } from '../shared/bigint.transformer';

export type SessionState = 'ACTIVE' | 'ENDED';

/** A user's connection (filled by the real-time gateway); listed by the Platform API. */
@Entity('user_sessions')
export class UserSessionEntity {
  @PrimaryColumn('bigint', { generatedIdentity: 'ALWAYS', transformer: bigint })
  @Generated('increment')
  id!: number;

  @Column('bigint', { name: 'application_id', transformer: bigint })
  applicationId!: number;

  @Column('bigint', { name: 'user_id', transformer: bigint })
  userId!: number;

  @Column('text', { default: 'ACTIVE' })
  state!: SessionState;

  @Column('text', { name: 'user_agent', nullable: true })
  userAgent!: string | null;

  @CreateDateColumn({ name: 'created_time', type: 'timestamptz' })
  createdTime!: Date;

  @Column('timestamptz', { name: 'end_time', nullable: true })
  endTime!: Date | null;
}
