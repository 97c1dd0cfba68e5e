/**
 * Deterministic stand-ins for real tools: the same input always gives the
 * same output, so the example runs offline and its test can check the answer.
 */

export interface DayForecast {
  day: string;
  high_c: number;
  low_c: number;
  sky: string;
  wind_kmh: number;
}

export interface WeatherReport {
  city: string;
  forecast: DayForecast[];
}

const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const skies = ['sunny', 'partly cloudy', 'cloudy', 'light rain', 'showers', 'clear', 'windy'];

function seedOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** A week of weather for a city: verbose on purpose, like real tool output, so it fills the window. */
export function weather(input: { city: string }): WeatherReport {
  let state = seedOf(input.city.toLowerCase());
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const base = 8 + Math.floor(next() * 20);
  return {
    city: input.city,
    forecast: days.map((day) => {
      const high = base + Math.floor(next() * 6) - 2;
      return {
        day,
        high_c: high,
        low_c: high - 5 - Math.floor(next() * 5),
        sky: skies[Math.floor(next() * skies.length)]!,
        wind_kmh: 5 + Math.floor(next() * 30),
      };
    }),
  };
}

/** Average daytime high of a report, rounded to a tenth of a degree. */
export function averageHigh(report: WeatherReport): number {
  const sum = report.forecast.reduce((total, day) => total + day.high_c, 0);
  return Math.round((sum / report.forecast.length) * 10) / 10;
}

export const tools = { weather } as const;
export type ToolName = keyof typeof tools;
