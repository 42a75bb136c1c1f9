//! SVG charts with `plotters`: panels of lines (a run's curves) and panels of means with error
//! bars (an experiment's results). SVG leaves text to the viewer, so no font is needed.

use super::report::write_whole;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

/// One named line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    /// `(x, y)` points in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// A line chart: its title, axis names and lines. The x values are counts (steps), labelled as
/// whole numbers.
pub struct LinePanel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

/// One bar of an interval chart: a mean and the spread around it.
pub struct Interval {
    pub label: String,
    pub mean: f64,
    pub std: f64,
}

/// An interval chart: one horizontal error bar per row.
pub struct IntervalPanel {
    pub title: String,
    pub x_label: String,
    pub rows: Vec<Interval>,
}

/// Pixels of one panel.
const PANEL: (u32, u32) = (760, 320);
/// Pixels of the legend column beside a line panel, so that no legend covers a line's end.
const LEGEND_WIDTH: u32 = 230;

/// The lines' colours, in order: the Okabe–Ito colours, which colour-blind readers tell apart,
/// without their yellow (too pale on white), then brown and grey; more lines reuse them.
const LINE_COLOURS: [RGBColor; 9] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0x8C, 0x56, 0x4B),
    RGBColor(0x7F, 0x7F, 0x7F),
];

/// `x` as a whole count, or no label where it is not one (the ticks of a short axis fall
/// between steps).
fn whole_number(x: &f64) -> String {
    match (x - x.round()).abs() < 1e-9 {
        true => format!("{x:.0}"),
        false => String::new(),
    }
}

/// `lo..hi` widened by 5 % on each side, so that points on the edges stay visible; a single
/// value `v` by 5 % of `max(|v|, 1)` (a metric of 1.0 everywhere gets 0.95..1.05, not a range
/// past what a metric can be); no value at all, `0..1`.
fn padded(lo: f64, hi: f64) -> Range<f64> {
    if !(lo.is_finite() && hi.is_finite()) {
        return 0.0..1.0;
    }
    let pad = 0.05
        * match hi > lo {
            true => hi - lo,
            false => lo.abs().max(1.0),
        };
    lo - pad..hi + pad
}

/// The smallest range holding `values`.
fn extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// Writes `panels` stacked in one column to the SVG file `path`, each line in its own colour
/// ([`LINE_COLOURS`]), named in a legend beside the panel; a line of one point is drawn as a
/// dot.
pub fn line_charts(path: &Path, panels: &[LinePanel]) -> Result<(), String> {
    let size = (PANEL.0 + LEGEND_WIDTH, PANEL.1 * panels.len().max(1) as u32);
    svg_file(path, size, |root| {
        for (area, panel) in root
            .split_evenly((panels.len().max(1), 1))
            .iter()
            .zip(panels)
        {
            let (lines, legend) = area.split_horizontally(PANEL.0);
            draw_lines(&lines, panel)?;
            draw_legend(&legend, &panel.series)?;
        }
        Ok(())
    })
}

/// Draws an SVG picture of `size` on a white ground with `draw`, then writes it to `path` whole
/// ([`write_whole`]: an interrupted run leaves the old picture or the new one).
fn svg_file(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(
        &DrawingArea<SVGBackend, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<std::io::Error>>,
) -> Result<(), String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    write_whole(path, svg)
}

/// The colour of the `i`-th line.
fn line_colour(i: usize) -> RGBColor {
    LINE_COLOURS[i % LINE_COLOURS.len()]
}

fn draw_lines(
    area: &DrawingArea<SVGBackend, Shift>,
    panel: &LinePanel,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let points = || panel.series.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = extent(points().map(|p| p.0));
    let (y0, y1) = extent(points().map(|p| p.1));
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(padded(x0, x1), padded(y0, y1))?;
    chart
        .configure_mesh()
        .max_light_lines(0)
        // No more ticks than whole steps in the range (a short run has a few).
        .x_labels(((x1 - x0).max(0.0) as usize + 1).min(10))
        .x_label_formatter(&whole_number)
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .draw()?;
    for (i, series) in panel.series.iter().enumerate() {
        let colour = line_colour(i);
        chart.draw_series(LineSeries::new(
            series.points.iter().copied(),
            colour.stroke_width(2),
        ))?;
        if series.points.len() == 1 {
            chart.draw_series(
                series
                    .points
                    .iter()
                    .map(|&p| Circle::new(p, 3, colour.filled())),
            )?;
        }
    }
    Ok(())
}

/// The names of `series` in their colours, one per row from the top of `area`.
fn draw_legend(
    area: &DrawingArea<SVGBackend, Shift>,
    series: &[Series],
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    for (i, s) in series.iter().enumerate() {
        let y = 48 + 22 * i as i32;
        area.draw(&PathElement::new(
            vec![(4, y), (28, y)],
            line_colour(i).stroke_width(3),
        ))?;
        area.draw(&Text::new(
            s.name.as_str(),
            (36, y - 7),
            ("sans-serif", 14).into_font(),
        ))?;
    }
    Ok(())
}

/// Writes `panels` on a grid of `columns` columns to the SVG file `path`: in each, one row per
/// interval, its mean as a dot and mean ± std as a horizontal error bar.
pub fn interval_charts(
    path: &Path,
    panels: &[IntervalPanel],
    columns: usize,
) -> Result<(), String> {
    let columns = columns.clamp(1, panels.len().max(1));
    let grid_rows = panels.len().div_ceil(columns).max(1);
    let size = (PANEL.0 * columns as u32, PANEL.1 * grid_rows as u32);
    svg_file(path, size, |root| {
        for (area, panel) in root.split_evenly((grid_rows, columns)).iter().zip(panels) {
            draw_intervals(area, panel)?;
        }
        Ok(())
    })
}

fn draw_intervals(
    area: &DrawingArea<SVGBackend, Shift>,
    panel: &IntervalPanel,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let (lo, hi) = extent(
        panel
            .rows
            .iter()
            .flat_map(|r| [r.mean - r.std, r.mean + r.std]),
    );
    let rows = panel.rows.len();
    let label = |y: &f64| {
        let i = y.round();
        match (i - y).abs() < 1e-6 && i >= 0.0 {
            true => panel
                .rows
                .get(i as usize)
                .map_or_else(String::new, |r| r.label.clone()),
            false => String::new(),
        }
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(170)
        .build_cartesian_2d(padded(lo, hi), -0.5..rows as f64 - 0.5)?;
    chart
        .configure_mesh()
        .max_light_lines(0)
        .x_desc(&panel.x_label)
        .y_labels(rows.max(1) * 2 + 1)
        .y_label_formatter(&label)
        .disable_y_mesh()
        .draw()?;
    chart.draw_series(panel.rows.iter().enumerate().map(|(i, r)| {
        ErrorBar::new_horizontal(
            i as f64,
            r.mean - r.std,
            r.mean,
            r.mean + r.std,
            BLUE.stroke_width(2),
            8,
        )
    }))?;
    chart.draw_series(
        panel
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| Circle::new((r.mean, i as f64), 4, BLUE.filled())),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_padded_and_never_empty() {
        let r = padded(0.0, 10.0);
        assert_eq!((r.start, r.end), (-0.5, 10.5));
        let r = padded(4.0, 4.0);
        assert_eq!((r.start, r.end), (3.8, 4.2));
        let r = padded(1.0, 1.0);
        assert_eq!(
            (r.start, r.end),
            (0.95, 1.05),
            "a perfect score stays near 1"
        );
        let r = padded(f64::INFINITY, f64::NEG_INFINITY);
        assert_eq!((r.start, r.end), (0.0, 1.0), "no points at all");
    }

    #[test]
    fn steps_are_labelled_only_where_they_are_whole() {
        assert_eq!(whole_number(&2.0), "2");
        assert_eq!(whole_number(&2000.0), "2000");
        assert_eq!(whole_number(&1.9), "");
        assert_eq!(whole_number(&0.4), "");
    }

    #[test]
    fn charts_are_svg_files_with_their_labels() {
        let dir = std::env::temp_dir().join(format!("polyvit-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lines = dir.join("lines.svg");
        let panel = LinePanel {
            title: "loss".into(),
            x_label: "step".into(),
            y_label: "loss".into(),
            series: vec![
                Series {
                    name: "mnist".into(),
                    points: vec![(0.0, 2.3), (1.0, 2.0), (2.0, 1.5)],
                },
                Series {
                    name: "drums".into(),
                    points: vec![(1.0, 0.7)],
                },
            ],
        };
        line_charts(&lines, &[panel]).unwrap();
        let text = std::fs::read_to_string(&lines).unwrap();
        assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
        assert!(text.contains("mnist") && text.contains("drums") && text.contains("step"));

        let intervals = dir.join("intervals.svg");
        let rows = vec![
            Interval {
                label: "single-task".into(),
                mean: 0.8,
                std: 0.05,
            },
            Interval {
                label: "weighted".into(),
                mean: 0.7,
                std: 0.0,
            },
        ];
        let panel = IntervalPanel {
            title: "mnist".into(),
            x_label: "test top1".into(),
            rows,
        };
        interval_charts(&intervals, &[panel], 3).unwrap();
        let text = std::fs::read_to_string(&intervals).unwrap();
        assert!(text.contains("single-task") && text.contains("weighted"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
