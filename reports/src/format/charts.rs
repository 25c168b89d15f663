//! SVG charts of the HTML report, drawn with plotters' SVG backend: the classic HdrHistogram
//! percentile plot (latency against a log `1/(1-p)` axis labelled 90%, 99%, 99.9% ...) and
//! simple line charts over the run's seconds.

use hdrhistogram::Histogram;
use plotters::prelude::*;

use crate::error::ReportError;

const SIZE: (u32, u32) = (860, 380);
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn chart_err<E: std::fmt::Debug>(e: E) -> ReportError {
    ReportError::Invalid(format!("drawing an SVG chart failed: {e:?}"))
}

/// `1 -> 0%`, `10 -> 90%`, `100 -> 99%`, `1000 -> 99.9%`.
fn percentile_label(x: &f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    let decimals = (x.log10().round() as i32 - 2).max(0) as usize;
    format!("{p:.decimals$}%")
}

/// One (1/(1-q), latency ms) point per quantile step, the final q = 1 left out.
fn percentile_points(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    super::hgrm::percentile_rows(h, super::hgrm::TICKS)
        .into_iter()
        .filter(|r| r.quantile < 1.0)
        .map(|r| (1.0 / (1.0 - r.quantile), r.value as f64 / 1000.0))
        .collect()
}

/// Latency by percentile, one line per named histogram.
pub fn percentile_chart(series: &[(String, Histogram<u64>)]) -> Result<String, ReportError> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(name, h)| (name.clone(), percentile_points(h)))
        .collect();
    let x_max = lines
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(x, _)| *x))
        .fold(10.0_f64, f64::max);
    let x_max = 10f64.powf(x_max.log10().ceil());
    let y_max = nice_max(lines.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y)));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Latency by percentile", ("sans-serif", 18))
            .margin(12)
            .margin_right(40)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d((1.0..x_max).log_scale(), 0.0..y_max)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency (ms)")
            .x_label_formatter(&percentile_label)
            .draw()
            .map_err(chart_err)?;
        draw_lines(&mut chart, &lines)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// A line chart over time: `series` of (label, points (t_s, value)).
pub fn time_chart(
    title: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<String, ReportError> {
    let t_max = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(x, _)| *x))
        .fold(1.0_f64, f64::max);
    let y_max = nice_max(series.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y)));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .margin_right(40)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..t_max, 0.0..y_max)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc(y_desc)
            .draw()
            .map_err(chart_err)?;
        draw_lines(&mut chart, series)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// A labelled position on one axis, drawn as a thin line across the chart (an SLO limit, a
/// knee, N_max).
#[derive(Debug, Clone)]
pub struct Marker {
    pub label: String,
    pub at: f64,
}

/// What an x-y chart shows: lines, measured points, vertical and horizontal markers.
#[derive(Debug, Clone, Default)]
pub struct XyChart {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
    pub points: Vec<(String, Vec<(f64, f64)>)>,
    pub vertical: Vec<Marker>,
    pub horizontal: Vec<Marker>,
}

const MARKER: RGBColor = RGBColor(120, 120, 120);

/// Draws an [`XyChart`] on linear axes starting at 0.
pub fn xy_chart(c: &XyChart) -> Result<String, ReportError> {
    let xs = c
        .lines
        .iter()
        .chain(&c.points)
        .flat_map(|(_, p)| p.iter().map(|(x, _)| *x))
        .chain(c.vertical.iter().map(|m| m.at));
    let ys = c
        .lines
        .iter()
        .chain(&c.points)
        .flat_map(|(_, p)| p.iter().map(|(_, y)| *y))
        .chain(c.horizontal.iter().map(|m| m.at));
    let (x_max, y_max) = (nice_max(xs), nice_max(ys));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&c.title, ("sans-serif", 18))
            .margin(12)
            .margin_right(40)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc(c.x_desc.as_str())
            .y_desc(c.y_desc.as_str())
            .draw()
            .map_err(chart_err)?;
        let mut markers = Vec::new();
        for m in &c.vertical {
            markers.push((m.label.as_str(), [(m.at, 0.0), (m.at, y_max)]));
        }
        for m in &c.horizontal {
            markers.push((m.label.as_str(), [(0.0, m.at), (x_max, m.at)]));
        }
        for (label, ends) in markers {
            chart
                .draw_series(LineSeries::new(ends, MARKER.stroke_width(1)))
                .map_err(chart_err)?;
            let (x, y) = ends[1];
            let anchor = if ends[0].0 == ends[1].0 {
                (x, y * 0.96)
            } else {
                (x * 0.75, y)
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    label.to_string(),
                    anchor,
                    ("sans-serif", 13).into_font().color(&MARKER),
                )))
                .map_err(chart_err)?;
        }
        draw_points(&mut chart, &c.points, c.lines.len())?;
        draw_lines(&mut chart, &c.lines)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// Measured points as circles, colours continuing after `offset` lines.
fn draw_points<'a>(
    chart: &mut ChartContext<
        'a,
        SVGBackend<'a>,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    series: &[(String, Vec<(f64, f64)>)],
    offset: usize,
) -> Result<(), ReportError> {
    for (i, (name, points)) in series.iter().enumerate() {
        let color = COLORS[(offset + i) % COLORS.len()];
        chart
            .draw_series(
                points
                    .iter()
                    .map(move |&(x, y)| Circle::new((x, y), 4, color.filled())),
            )
            .map_err(chart_err)?
            .label(name.as_str())
            .legend(move |(x, y)| Circle::new((x + 9, y), 4, color.filled()));
    }
    Ok(())
}

fn draw_lines<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    lines: &[(String, Vec<(f64, f64)>)],
) -> Result<(), ReportError>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (i, (name, points)) in lines.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(chart_err)?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    if !lines.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(chart_err)?;
    }
    Ok(())
}

/// A y-axis top a little above the largest value (1 when there is none).
fn nice_max(values: impl Iterator<Item = f64>) -> f64 {
    let m = values.fold(0.0_f64, f64::max);
    if m <= 0.0 {
        1.0
    } else {
        m * 1.08
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_axis_labels() {
        assert_eq!(percentile_label(&1.0), "0%");
        assert_eq!(percentile_label(&10.0), "90%");
        assert_eq!(percentile_label(&100.0), "99%");
        assert_eq!(percentile_label(&1000.0), "99.9%");
        assert_eq!(percentile_label(&10000.0), "99.99%");
    }

    #[test]
    fn charts_are_svg_with_text() {
        let h = crate::fixture::tail_histogram(1000, 500);
        let svg = percentile_chart(&[("all".into(), h)]).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..100]);
        assert!(svg.contains("99.9%"), "axis labels are drawn");
        let svg = time_chart(
            "t",
            "req/s",
            &[("rps".into(), vec![(1.0, 5.0), (2.0, 6.0)])],
        )
        .unwrap();
        assert!(svg.contains("<polyline") || svg.contains("<path"));
    }
}
