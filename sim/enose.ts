// A metal-oxide (MOX) e-nose array, modelled on the behaviour of real parts
// (FIELD.md: BME688, SGP40/41): each channel's resistance falls when a
// reducing gas is present, with its own sensitivity to each odorant; the
// response is first order with a rise time of ~1–3 s and a slower recovery;
// the baseline drifts and depends on humidity; after power-on the heater
// needs a warm-up period during which readings are high and unsettled.
import { ODORANTS } from './plume.ts';
import type { Rng } from './rng.ts';

export interface ENoseConfig {
  channels: number;
  /** Seconds after power-on before readings are trustworthy. */
  warmupS: number;
}

export const DEFAULT_ENOSE: ENoseConfig = { channels: 6, warmupS: 20 };

interface Channel {
  name: string;
  r0: number; // Ω in clean air at 50 % RH
  sensitivity: number[]; // per odorant
  tauRise: number;
  tauRecover: number;
  humidity: number; // fractional change of R per 10 % RH above 50 %
  state: number;
  drift: number;
}

export interface ENoseReading {
  channels: string[];
  units: string[];
  values: number[];
  temperature_c: number;
  humidity_pct: number;
  heater_step: number;
  warmed_up: boolean;
}

export class ENose {
  private readonly ch: Channel[] = [];
  private age = 0;
  readonly names: string[];
  readonly units: string[];

  /**
   * `hardware` fixes the array's selectivities (the same physical sensor across
   * episodes); `episode` draws drift, humidity and noise for this run.
   */
  constructor(
    hardware: Rng,
    private readonly episode: Rng,
    readonly config: ENoseConfig = DEFAULT_ENOSE,
    /** Seconds the sensor has been powered when the episode starts. */
    startAge = 120,
    readonly humidityPct = 50,
    readonly temperatureC = 23,
  ) {
    this.age = startAge;
    for (let k = 0; k < config.channels; k++) {
      const tauRise = hardware.uniform(0.5, 1.2); // 10–90 % rise ≈ 2.2 τ ≈ 1.1–2.6 s
      this.ch.push({
        name: `mox${k}`,
        r0: hardware.uniform(20e3, 80e3),
        // Every channel smells the target somewhat; some are far more selective to ethanol.
        sensitivity: ODORANTS.map((_, j) => (j === 0 ? hardware.uniform(1.5, 4) : hardware.uniform(0.5, 3))),
        tauRise,
        tauRecover: tauRise * hardware.uniform(3, 5),
        humidity: hardware.uniform(-0.04, -0.01),
        state: 0,
        drift: episode.uniform(-0.08, 0.08),
      });
    }
    this.names = this.ch.map((c) => c.name);
    this.units = this.ch.map(() => 'ohm');
  }

  get warmedUp(): boolean {
    return this.age >= this.config.warmupS;
  }

  /** Integrates the channels for dt seconds given the odorant concentrations at the sensor. */
  advance(dt: number, concentration: number[]): void {
    this.age += dt;
    for (const c of this.ch) {
      let target = 0;
      for (let j = 0; j < concentration.length; j++) target += c.sensitivity[j] * concentration[j];
      const tau = target > c.state ? c.tauRise : c.tauRecover;
      c.state += (target - c.state) * (1 - Math.exp(-dt / tau));
      // Slow baseline drift: a random walk of ~1 % per minute.
      c.drift += 0.0013 * Math.sqrt(dt) * this.episode.normal();
    }
  }

  read(): ENoseReading {
    const values = new Array<number>(this.ch.length);
    // Warming up: the heater is not at temperature and resistance is high and settling.
    const warm = 1 + 1.5 * Math.exp(-this.age / (this.config.warmupS / 3));
    for (let k = 0; k < this.ch.length; k++) {
      const c = this.ch[k];
      const humid = 1 + c.humidity * ((this.humidityPct - 50) / 10);
      const r = (c.r0 * (1 + c.drift) * humid * warm) / (1 + c.state);
      values[k] = r * (1 + 0.004 * this.episode.normal());
    }
    return {
      channels: this.names,
      units: this.units,
      values,
      temperature_c: this.temperatureC + 0.05 * this.episode.normal(),
      humidity_pct: this.humidityPct + 0.3 * this.episode.normal(),
      heater_step: 0,
      warmed_up: this.warmedUp,
    };
  }
}
