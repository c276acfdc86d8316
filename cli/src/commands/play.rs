//! `gate play WEBSH_ID [--speed X] [--skip-idle [SECS]]`: a recorded terminal replayed on
//! stdout with its own timing (the output only, never the keys typed), scaled by `--speed`,
//! pauses capped by `--skip-idle`.

use crate::args::PlayArgs;
use crate::context::Context;
use crate::exit::CliError;
use gatehouse_shared::asciicast::{self, EventKind};
use std::io::Write;
use std::time::Duration;
use tokio::time::Instant;

pub async fn run(ctx: &Context, args: PlayArgs) -> Result<i32, CliError> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(CliError::usage("--speed must be a number above 0"));
    }
    if args.skip_idle.is_some_and(|s| !(s.is_finite() && s >= 0.0)) {
        return Err(CliError::usage("--skip-idle must be 0 seconds or more"));
    }
    let text = ctx.client()?.websh_recording(args.id).await?;
    let recording = asciicast::parse(&text)
        .map_err(|e| CliError::failed("bad_recording", format!("cannot play {}: {e}", args.id)))?;
    let schedule = schedule(
        recording.events.iter().map(|e| e.time),
        args.speed,
        args.skip_idle,
    );
    let start = Instant::now();
    let mut out = std::io::stdout().lock();
    for (event, at) in recording.events.iter().zip(schedule) {
        let EventKind::Output(data) = &event.kind else {
            continue;
        };
        tokio::time::sleep_until(start + at).await;
        // A reader that went away (`| head`) ends the replay quietly.
        if out
            .write_all(data.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            break;
        }
    }
    Ok(0)
}

/// When each event plays, from the start: gaps capped at `skip_idle`, then divided by `speed`.
fn schedule(times: impl Iterator<Item = f64>, speed: f64, skip_idle: Option<f64>) -> Vec<Duration> {
    let mut at = 0.0f64;
    let mut last = 0.0f64;
    times
        .map(|time| {
            let gap = (time - last).max(0.0);
            last = time;
            at += skip_idle.map_or(gap, |cap| gap.min(cap)) / speed;
            Duration::from_secs_f64(at)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::schedule;
    use std::time::Duration;

    fn secs(v: &[Duration]) -> Vec<f64> {
        v.iter().map(Duration::as_secs_f64).collect()
    }

    #[test]
    fn timing_is_scaled_by_speed_and_idle_gaps_are_capped() {
        let times = [0.5, 1.0, 11.0, 12.0];
        assert_eq!(
            secs(&schedule(times.into_iter(), 1.0, None)),
            [0.5, 1.0, 11.0, 12.0]
        );
        assert_eq!(
            secs(&schedule(times.into_iter(), 2.0, None)),
            [0.25, 0.5, 5.5, 6.0]
        );
        // The ten-second pause becomes two, then everything runs twice as fast.
        assert_eq!(
            secs(&schedule(times.into_iter(), 2.0, Some(2.0))),
            [0.25, 0.5, 1.5, 2.0]
        );
    }
}
