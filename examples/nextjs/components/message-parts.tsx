import type { UIMessage } from 'ai';

type Part = UIMessage['parts'][number];

/** One part of a message: text, the model's reasoning, or a tool call with its result. */
export function MessagePart({ part }: { part: Part }) {
  if (part.type === 'text') {
    return (
      <p className="text" data-testid="part-text">
        {part.text}
      </p>
    );
  }
  if (part.type === 'reasoning') {
    return (
      <details className="reasoning" data-testid="part-reasoning">
        <summary>Reasoning</summary>
        {part.text}
      </details>
    );
  }
  if (part.type.startsWith('tool-') || part.type === 'dynamic-tool') {
    const tool = part as { type: string; state: string; input?: unknown; output?: unknown };
    return (
      <div
        className="tool"
        data-testid="part-tool"
        data-tool={tool.type.slice('tool-'.length)}
        data-state={tool.state}
      >
        <code>{tool.type.slice('tool-'.length)}</code>
        {tool.state === 'output-available' ? <span> → {JSON.stringify(tool.output)}</span> : <span> …</span>}
      </div>
    );
  }
  return null;
}
