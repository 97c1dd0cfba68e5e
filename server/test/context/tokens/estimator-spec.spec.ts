import { getEncodingNameForModel, type TiktokenModel } from 'js-tiktoken';
import { describe, expect, it } from 'vitest';
import {
  defaultEstimatorSpec,
  EstimatorSpecError,
  loadEstimator,
  parseEstimatorSpec,
} from '../../../src/context/index.js';

describe('parseEstimatorSpec – accepted specs', () => {
  it('defaults to gpt-4o, which is o200k_base', () => {
    expect(parseEstimatorSpec(defaultEstimatorSpec)).toEqual({
      kind: 'tiktoken',
      encoding: 'o200k_base',
      spec: 'tiktoken:o200k_base',
    });
  });

  it('accepts encoding names', () => {
    for (const encoding of ['o200k_base', 'cl100k_base', 'p50k_base', 'p50k_edit', 'r50k_base']) {
      expect(parseEstimatorSpec(`tiktoken:${encoding}`)).toMatchObject({ encoding });
    }
  });

  it('maps model names to the encoding tiktoken uses for them', () => {
    const models: TiktokenModel[] = [
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4o-2024-08-06',
      'gpt-4.1',
      'gpt-4.1-mini',
      'o1',
      'o3',
      'o3-mini',
      'gpt-4',
      'gpt-4-turbo',
      'gpt-4-0613',
      'gpt-3.5-turbo',
      'gpt-3.5-turbo-0125',
      'text-embedding-3-small',
      'text-davinci-003',
      'code-davinci-002',
      'text-davinci-edit-001',
      'text-ada-001',
      'davinci',
    ];
    for (const model of models) {
      const oracle = getEncodingNameForModel(model);
      expect({ model, parsed: parseEstimatorSpec(`tiktoken:${model}`) }).toMatchObject({
        model,
        parsed: { kind: 'tiktoken', encoding: oracle === 'gpt2' ? 'r50k_base' : oracle },
      });
    }
  });

  it('accepts chars:<n>', () => {
    expect(parseEstimatorSpec('chars:4')).toEqual({ kind: 'chars', chars_per_token: 4, spec: 'chars:4' });
  });
});

describe('parseEstimatorSpec – errors name the spec and list what is accepted', () => {
  for (const bad of [
    '',
    'tiktoken',
    'tiktoken:',
    'tiktoken:llama-3',
    'tiktoken:constructor',
    'chars:0',
    'chars:-1',
    'chars:2.5',
    'chars:x',
    'bpe:gpt-4o',
    'chars:99999999',
  ]) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      let error: unknown;
      try {
        parseEstimatorSpec(bad);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(EstimatorSpecError);
      const message = (error as Error).message;
      expect(message).toContain(`"${bad}"`);
      expect(message).toContain('tiktoken:<encoding>');
      expect(message).toContain('o200k_base');
      expect(message).toContain('chars:<n>');
    });
  }

  it('loadEstimator – rejects a bad spec the same way', async () => {
    await expect(loadEstimator('tiktoken:nope')).rejects.toThrow(/invalid token estimator "tiktoken:nope"/);
  });
});
