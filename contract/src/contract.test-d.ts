import type { ClientInferRequest, ClientInferResponseBody, ServerInferResponses } from '@ts-rest/core';
import { describe, expectTypeOf, it } from 'vitest';
import type { Contract } from './contract.js';
import type { ErrorCode } from './errors.js';
import type { AppendResult } from './schemas/append.schema.js';
import type { Context } from './schemas/context.schema.js';
import type { Window } from './schemas/window.schema.js';

describe('contract – inferred types', () => {
  it('append responses are typed from the schemas', () => {
    expectTypeOf<ClientInferResponseBody<Contract['appendMessage'], 201>>().toEqualTypeOf<AppendResult>();
    type Responses = ServerInferResponses<Contract['appendMessage']>;
    expectTypeOf<Extract<Responses, { status: 201 }>['body']>().toEqualTypeOf<AppendResult>();
    expectTypeOf<Extract<Responses, { status: 409 }>['body']['error']>().toEqualTypeOf<ErrorCode>();
  });

  it('request bodies use wire names', () => {
    type Append = ClientInferRequest<Contract['appendMessage']>['body'];
    expectTypeOf<Append>().toHaveProperty('if_version');
    expectTypeOf<NonNullable<Append['message']>['parts'][number]['type']>().toEqualTypeOf<string>();
    expectTypeOf<NonNullable<Append['messages']>[number]['role']>().toEqualTypeOf<string>();
    type Put = ClientInferRequest<Contract['putContext']>['body'];
    expectTypeOf<Put['token_budget']>().toEqualTypeOf<number>();
  });

  it('wrong inputs do not compile', () => {
    type Append = ClientInferRequest<Contract['appendMessage']>['body'];
    // @ts-expect-error role is required
    const noRole: Append = { message: { parts: [{ type: 'text' }] } };
    // @ts-expect-error if_version is a number
    const badVersion: Append = { message: { role: 'user', parts: [{ type: 'text' }] }, if_version: '3' };
    // @ts-expect-error camelCase is not a wire name
    const camel: Append = { message: { role: 'user', parts: [{ type: 'text' }] }, ifVersion: 3 };
    expectTypeOf(noRole).not.toBeAny();
    expectTypeOf(badVersion).not.toBeAny();
    expectTypeOf(camel).not.toBeAny();
  });

  it('window and context responses are typed', () => {
    expectTypeOf<ClientInferResponseBody<Contract['getWindow'], 200>>().toEqualTypeOf<Window>();
    expectTypeOf<ClientInferResponseBody<Contract['getContext'], 200>>().toEqualTypeOf<Context>();
  });
});
