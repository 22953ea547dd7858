import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ApiException } from '@chatfn/platform';
import { UserEntity } from './user.entity';
import { parseSort, SortError, USER_SORT_COLUMNS } from './user.schema';

export interface UserListQuery {
  page: number;
  size: number;
  sort?: string | string[];
  name?: string;
  properties?: Record<string, unknown>;
  /** Only users with unread messages (as `countUserUnreadMessages` counts them). */
  unread?: boolean;
}

/** Lists users of an application with the UsersApi filters. */
@Injectable()
export class UserQueriesService {
  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {}

  async list(applicationId: number, q: UserListQuery): Promise<{ items: UserEntity[]; total: number }> {
    let order: { column: string; dir: 'ASC' | 'DESC' }[];
    try {
      order = parseSort(q.sort, USER_SORT_COLUMNS);
    } catch (e) {
      if (e instanceof SortError) throw ApiException.badRequest(e.message, { errors: [{ field: 'sort', message: e.message }] });
      throw e;
    }
    const qb = this.users
      .createQueryBuilder('u')
      .where('u.application_id = :applicationId', { applicationId })
      .andWhere('u.deleted_time IS NULL');
    if (q.name !== undefined) qb.andWhere('u.name = :name', { name: q.name });
    if (q.properties !== undefined) qb.andWhere('u.properties @> :props::jsonb', { props: JSON.stringify(q.properties) });
    if (q.unread) {
      // A message in one of the user's channels, not the user's own, without the user's read receipt.
      qb.andWhere(`EXISTS (
        SELECT 1 FROM channel_members cm JOIN messages m ON m.channel_id = cm.channel_id
         WHERE cm.user_id = u.id AND m.user_id IS DISTINCT FROM u.id
           AND NOT EXISTS (SELECT 1 FROM message_read_receipts r WHERE r.message_id = m.id AND r.user_id = u.id))`);
    }
    for (const o of order) qb.addOrderBy(o.column, o.dir);
    qb.addOrderBy('u.id', 'ASC');
    const [items, total] = await qb
      .skip(q.page * q.size)
      .take(q.size)
      .getManyAndCount();
    return { items, total };
  }
}
