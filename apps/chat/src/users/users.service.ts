import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, IsNull, Repository } from 'typeorm';
import { ApiException } from '@chatfn/platform';
import { UserEntity } from './user.entity';

/** Reads users of one application; other applications' and deleted users are "not found". */
@Injectable()
export class UsersService {
  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {}

  private repo(manager?: EntityManager): Repository<UserEntity> {
    return manager ? manager.getRepository(UserEntity) : this.users;
  }

  /** The user, or a 404 `ResourceNotFoundError` for an unknown, deleted or other application's id. */
  async findInApp(applicationId: number, id: number, manager?: EntityManager): Promise<UserEntity> {
    const user = await this.findOneInApp(applicationId, id, manager);
    if (!user) throw ApiException.notFound('User', id);
    return user;
  }

  async findOneInApp(applicationId: number, id: number, manager?: EntityManager): Promise<UserEntity | null> {
    if (!Number.isSafeInteger(id) || id <= 0) return null;
    return this.repo(manager).findOneBy({ id, applicationId, deletedTime: IsNull() });
  }

  /** The user with this name (username), or null. */
  async findByName(applicationId: number, name: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.repo(manager).findOneBy({ applicationId, name, deletedTime: IsNull() });
  }

  /** The user with this name, or a 404. */
  async getByName(applicationId: number, name: string, manager?: EntityManager): Promise<UserEntity> {
    const user = await this.findByName(applicationId, name, manager);
    if (!user) throw new ApiException(404, 'ResourceNotFoundError', `User with name ${name} not found`);
    return user;
  }

  /** Users by id (missing ids are simply absent from the map). */
  async findManyInApp(applicationId: number, ids: number[], manager?: EntityManager): Promise<Map<number, UserEntity>> {
    const unique = [...new Set(ids.filter((i) => Number.isSafeInteger(i) && i > 0))];
    if (unique.length === 0) return new Map();
    const rows = await this.repo(manager).findBy({ applicationId, id: In(unique), deletedTime: IsNull() });
    return new Map(rows.map((u) => [u.id, u]));
  }

  /** Users by id including deleted ones (for history: sessions, old messages). */
  async findManyIncludingDeleted(applicationId: number, ids: number[], manager?: EntityManager): Promise<Map<number, UserEntity>> {
    const unique = [...new Set(ids.filter((i) => Number.isSafeInteger(i) && i > 0))];
    if (unique.length === 0) return new Map();
    const rows = await this.repo(manager).findBy({ applicationId, id: In(unique) });
    return new Map(rows.map((u) => [u.id, u]));
  }

  /**
   * Resolves a `ChatUserIdReference | ChatUserUsernameReference` (`{id}` or `{username}`) to a user of the app,
   * or a 404 naming it.
   */
  async resolveReference(applicationId: number, ref: { id?: number; username?: string }, manager?: EntityManager): Promise<UserEntity> {
    if (ref.id !== undefined) return this.findInApp(applicationId, ref.id, manager);
    if (ref.username !== undefined) return this.getByName(applicationId, ref.username, manager);
    throw ApiException.badRequest('user: either id or username is required');
  }
}
