import { ValueTransformer } from 'typeorm';

/** PostgreSQL bigint columns come back as strings; ids are safe integers in JS, so map them to numbers. */
export const bigint: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | null | undefined) => (v === null || v === undefined ? v : Number(v)),
};
