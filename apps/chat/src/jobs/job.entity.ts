import { Column, CreateDateColumn, Entity, Generated, PrimaryColumn } from 'typeorm';
import { bigint } from '../shared/bigint.transformer';

export type JobType = 'CHANNEL_IMPORT' | 'CHANNEL_MEMBERS_IMPORT' | 'MESSAGE_IMPORT' | 'USER_IMPORT' | 'MESSAGE_ANALYTICS_EXPORT';
export type JobState = 'PENDING' | 'RUNNING' | 'FINISHED' | 'FAILED';

export interface JobError {
  message: string;
  /** Per-item problems: index in the imported array, and what was wrong. */
  items?: { index: number; message: string }[];
}

/** A background job of an application (imports): PENDING → RUNNING → FINISHED | FAILED. */
@Entity('application_jobs')
export class JobEntity {
  @PrimaryColumn('bigint', { generatedIdentity: 'ALWAYS', transformer: bigint })
  @Generated('increment')
  id!: number;

  @Column('bigint', { name: 'application_id', transformer: bigint })
  applicationId!: number;

  @Column('text')
  type!: JobType;

  @Column('text', { default: 'PENDING' })
  state!: JobState;

  /** Name of the uploaded file. */
  @Column('text', { nullable: true })
  file!: string | null;

  /** Job parameters, e.g. `{channelId}` for a members import. */
  @Column('jsonb', { default: () => "'{}'::jsonb" })
  params!: Record<string, unknown>;

  /** The parsed items to import. */
  @Column('jsonb', { default: () => "'[]'::jsonb" })
  input!: unknown[];

  @Column('int', { default: 0 })
  processed!: number;

  @Column('jsonb', { nullable: true })
  error!: JobError | null;

  @CreateDateColumn({ name: 'created_time', type: 'timestamptz' })
  createdTime!: Date;

  @Column('timestamptz', { name: 'ended_time', nullable: true })
  endedTime!: Date | null;
}
