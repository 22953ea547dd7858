import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { ApiException, SECRETS } from '@chatfn/platform';
import type { InstallationSecrets } from '@chatfn/platform';
import { ChatEventRecorder } from '../shared/chat-event.recorder';
import { decryptJson, encryptJson } from '../shared/credentials';
import { UserSecretEntity } from './user-secret.entity';
import { UserEntity } from './user.entity';
import { toChatUserProperties } from './user.mapper';
import { CreateUser, mergePatch, UpdateUser } from './user.schema';
import { UsersService } from './users.service';

const UNIQUE_VIOLATION = '23505';

/** Writes to users: each change and its chat event (`user.created`, ...) commit in one transaction. */
@Injectable()
export class UserCommandsService {
  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly reader: UsersService,
    private readonly recorder: ChatEventRecorder,
    @Inject(SECRETS) private readonly secrets: InstallationSecrets,
  ) {}

  async create(applicationId: number, input: CreateUser, depth: number, manager?: EntityManager): Promise<UserEntity> {
    const run = async (m: EntityManager) => {
      const repo = m.getRepository(UserEntity);
      const user = await repo.save(
        repo.create({
          applicationId,
          name: input.name,
          displayName: input.display_name,
          isGuest: input.is_guest,
          properties: input.properties,
          type: 'PERSON',
        }),
      );
      await this.recorder.record(m, {
        applicationId,
        type: 'user.created',
        userId: user.id,
        depth,
        data: { user: toChatUserProperties(user) },
      });
      return user;
    };
    try {
      return manager ? await run(manager) : await this.users.manager.transaction(run);
    } catch (e) {
      throw duplicateName(e, input.name);
    }
  }

  async update(applicationId: number, id: number, patch: UpdateUser, depth: number): Promise<UserEntity> {
    try {
      return await this.users.manager.transaction(async (m) => {
        const user = await this.lock(m, applicationId, id);
        if (patch.name !== undefined) user.name = patch.name;
        if (patch.display_name !== undefined) user.displayName = patch.display_name;
        if (patch.is_guest !== undefined) user.isGuest = patch.is_guest;
        if (patch.properties === null) user.properties = {};
        else if (patch.properties !== undefined) user.properties = mergePatch(user.properties, patch.properties) as Record<string, unknown>;
        await m.getRepository(UserEntity).save(user);
        await this.changed(m, user, 'user.updated', depth);
        return user;
      });
    } catch (e) {
      throw duplicateName(e, patch.name ?? '');
    }
  }

  async setDisplayPicture(applicationId: number, id: number, url: string, depth: number): Promise<UserEntity> {
    return this.users.manager.transaction(async (m) => {
      const user = await this.lock(m, applicationId, id);
      user.displayPictureUrl = url;
      await m.getRepository(UserEntity).save(user);
      await this.changed(m, user, 'user.updated', depth);
      return user;
    });
  }

  async delete(applicationId: number, id: number, depth: number): Promise<void> {
    await this.users.manager.transaction(async (m) => {
      const user = await this.lock(m, applicationId, id);
      user.deletedTime = new Date();
      await m.getRepository(UserEntity).save(user);
      await m.getRepository(UserSecretEntity).delete({ userId: user.id });
      await this.changed(m, user, 'user.deleted', depth);
    });
  }

  async getSecret(applicationId: number, id: number, name: string): Promise<unknown> {
    const user = await this.reader.findInApp(applicationId, id);
    const row = await this.users.manager.getRepository(UserSecretEntity).findOneBy({ userId: user.id, name });
    if (!row) throw new ApiException(404, 'ResourceNotFoundError', `Secret ${name} of user ${id} not found`);
    return decryptJson(this.secrets.encryptionKey, row.valueEncrypted);
  }

  async setSecret(applicationId: number, id: number, name: string, value: unknown): Promise<UserEntity> {
    const user = await this.reader.findInApp(applicationId, id);
    await this.users.manager
      .getRepository(UserSecretEntity)
      .upsert({ userId: user.id, name, valueEncrypted: encryptJson(this.secrets.encryptionKey, value) }, ['userId', 'name']);
    return user;
  }

  async removeSecret(applicationId: number, id: number, name: string): Promise<UserEntity> {
    const user = await this.reader.findInApp(applicationId, id);
    const r = await this.users.manager.getRepository(UserSecretEntity).delete({ userId: user.id, name });
    if (!r.affected) throw new ApiException(404, 'ResourceNotFoundError', `Secret ${name} of user ${id} not found`);
    return user;
  }

  private async lock(m: EntityManager, applicationId: number, id: number): Promise<UserEntity> {
    const user = await this.reader.findOneInApp(applicationId, id, m);
    if (!user) throw ApiException.notFound('User', id);
    await m.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [user.id]);
    return (await this.reader.findOneInApp(applicationId, id, m)) ?? user;
  }

  private changed(m: EntityManager, user: UserEntity, type: string, depth: number) {
    return this.recorder.record(m, {
      applicationId: user.applicationId,
      type,
      userId: user.id,
      depth,
      data: { user: toChatUserProperties(user) },
    });
  }
}

function duplicateName(e: unknown, name: string): unknown {
  const code = (e as { driverError?: { code?: string }; code?: string })?.driverError?.code ?? (e as { code?: string })?.code;
  if (code === UNIQUE_VIOLATION) {
    return ApiException.conflict(`A user with name ${name} already exists`, { errors: [{ field: 'name', message: 'already taken' }] });
  }
  return e;
}
