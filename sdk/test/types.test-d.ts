import type {
  AppendResult,
  CompactResult,
  Context,
  Contract,
  Message,
  MessagesPage,
  TailResponse,
  TokenResponse,
  Window,
} from '@fastpaca/contract';
import type { ClientInferRequest, ClientInferResponseBody } from '@ts-rest/core';
import { convertToModelMessages, type ModelMessage, type UIMessage } from 'ai';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type ContextHandle,
  type ContextOptions,
  type ContextOptionsOf,
  createClient,
  type EventStream,
  type Subscription,
  type SubscriptionEvent,
  toUIMessages,
} from '../src/index.js';

declare const ctx: ContextHandle;
const client = createClient({ baseUrl: 'http://localhost:4000' });
const message = { role: 'user', parts: [{ type: 'text', text: 'hi' }] };

describe('sdk – responses are typed from the contract', () => {
  it('each method resolves to the contract type of its route', () => {
    expectTypeOf(client.context('id', { budget: 100 })).resolves.toEqualTypeOf<ContextHandle>();
    expectTypeOf(client.contextHandle('id')).toEqualTypeOf<ContextHandle>();
    expectTypeOf(ctx.get()).resolves.toEqualTypeOf<Context>();
    expectTypeOf<Context>().toEqualTypeOf<ClientInferResponseBody<Contract['getContext'], 200>>();
    expectTypeOf(ctx.context()).resolves.toEqualTypeOf<Window>();
    expectTypeOf<Window>().toEqualTypeOf<ClientInferResponseBody<Contract['getWindow'], 200>>();
    expectTypeOf(ctx.append(message)).resolves.toEqualTypeOf<
      Omit<AppendResult, 'first_seq'> & { replayed: boolean }
    >();
    expectTypeOf(ctx.appendTurn([message, message])).resolves.toEqualTypeOf<
      Required<AppendResult> & { replayed: boolean }
    >();
    expectTypeOf<AppendResult>().toEqualTypeOf<ClientInferResponseBody<Contract['appendMessage'], 201>>();
    expectTypeOf(ctx.compact([message])).resolves.toEqualTypeOf<CompactResult>();
    expectTypeOf(ctx.getTail()).resolves.toEqualTypeOf<TailResponse>();
    expectTypeOf(ctx.messages()).resolves.toEqualTypeOf<MessagesPage>();
    expectTypeOf(ctx.history()).toEqualTypeOf<AsyncGenerator<Message, void, undefined>>();
    expectTypeOf(ctx.updateMetadata({ a: 1 })).resolves.toEqualTypeOf<Context>();
    expectTypeOf(ctx.delete()).resolves.toEqualTypeOf<void>();
    expectTypeOf(ctx.createToken({ rights: ['read'] })).resolves.toEqualTypeOf<TokenResponse>();
  });

  it('wire fields keep their wire names and types', () => {
    expectTypeOf<Context['status']>().toEqualTypeOf<'active' | 'tombstoned'>();
    expectTypeOf<Window['messages'][number]['seq']>().toEqualTypeOf<number | null>();
    expectTypeOf<Message['parts'][number]['type']>().toEqualTypeOf<string>();
  });

  it('subscribe returns an iterable stream, or a plain subscription in callback mode', () => {
    expectTypeOf(ctx.subscribe()).toEqualTypeOf<EventStream>();
    expectTypeOf(ctx.subscribe({ cursor: 3, lastSeq: 2 })).toMatchTypeOf<AsyncIterable<SubscriptionEvent>>();
    const callback = ctx.subscribe({ onEvent: () => {} });
    expectTypeOf(callback).toEqualTypeOf<Subscription>();
    expectTypeOf(callback).not.toMatchTypeOf<AsyncIterable<SubscriptionEvent>>();
    expectTypeOf<Extract<SubscriptionEvent, { type: 'message' }>['message']>().toEqualTypeOf<Message>();
    expectTypeOf<Extract<SubscriptionEvent, { type: 'gap_filled' }>['context']>().toEqualTypeOf<Context>();
  });
});

describe('sdk – request options follow the contract', () => {
  type PutBody = ClientInferRequest<Contract['putContext']>['body'];

  it('every field of the PUT body is an option: renamed (budget, trigger) or under its wire name', () => {
    expectTypeOf<Exclude<keyof ContextOptions, 'budget' | 'trigger'>>().toEqualTypeOf<
      Exclude<keyof PutBody, 'token_budget' | 'trigger_ratio'>
    >();
  });

  it('a field added to the contract shows up as an option, typed, without an edit to the SDK', () => {
    type Grown = PutBody & { retention_days?: number };
    expectTypeOf<ContextOptionsOf<Grown>>()
      .toHaveProperty('retention_days')
      .toEqualTypeOf<number | undefined>();
    // And the handle passes it on: configure takes the grown options where the contract has grown.
    expectTypeOf<ContextOptionsOf<PutBody>>().toEqualTypeOf<ContextOptions>();
  });
});

describe('sdk – ai-sdk interop types', () => {
  it('append accepts a UIMessage; toUIMessages feeds convertToModelMessages', () => {
    const ui: UIMessage = { id: 'x', role: 'user', parts: [{ type: 'text', text: 'hi' }] };
    expectTypeOf(ctx.append(ui)).resolves.toHaveProperty('seq');
    expectTypeOf(ctx.compact([ui, message])).resolves.toEqualTypeOf<CompactResult>();
    const stored: Message[] = [];
    expectTypeOf(toUIMessages<UIMessage>(stored)).toEqualTypeOf<UIMessage[]>();
    expectTypeOf(convertToModelMessages(toUIMessages<UIMessage>(stored))).resolves.toEqualTypeOf<
      ModelMessage[]
    >();
  });
});

describe('sdk – wrong inputs do not compile', () => {
  it('rejects malformed messages and options', async () => {
    // @ts-expect-error parts is required
    void ctx.append({ role: 'user' });
    // @ts-expect-error every part needs a string type
    void ctx.append({ role: 'user', parts: [{ text: 'x' }] });
    // @ts-expect-error ifVersion is a number
    void ctx.append(message, { ifVersion: '3' });
    // @ts-expect-error options use camelCase, not wire names
    void ctx.append(message, { if_version: 3 });
    // @ts-expect-error budget is required to create a context
    void client.context('id', {});
    // @ts-expect-error budget is a number
    void client.context('id', { budget: '100' });
    // @ts-expect-error unknown policy strategy
    void ctx.configure({ budget: 1, policy: { strategy: 'lifo' } });
    // @ts-expect-error rights are "read" and "append"
    void ctx.createToken({ rights: ['write'] });
    // @ts-expect-error budgetTokens, not budget_tokens
    void ctx.context({ budget_tokens: 5 });
    // @ts-expect-error a cursor is a version number
    void ctx.subscribe({ cursor: '3' });
    // @ts-expect-error baseUrl is required
    void createClient({ apiKey: 'k' });
    // @ts-expect-error a callback subscription is not iterable
    for await (const _ of ctx.subscribe({ onEvent: () => {} })) break;
  });
});
