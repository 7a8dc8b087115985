package trnsim.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/** The drawing operations charts need, as SVG (text stays text) or as a PNG image. */
sealed interface Canvas permits Canvas.Svg, Canvas.Png {
  /** Text alignment at the anchor point. */
  enum Anchor { START, MIDDLE, END }

  String FONT = "DejaVu Sans";

  void line(double x1, double y1, double x2, double y2, String color, double width, boolean dashed);

  void polyline(List<double[]> points, String color, double width);

  void rect(double x, double y, double w, double h, String fill, String stroke);

  void circle(double cx, double cy, double r, String fill);

  /** Text with its baseline at y; {@code vertical} rotates it 90 degrees anticlockwise about (x, y). */
  void text(double x, double y, String s, double size, Anchor anchor, boolean vertical, boolean bold);

  byte[] bytes();

  /** Width of a text in pixels, estimated the same way for both formats so layouts match. */
  static double textWidth(String s, double size) {
    return s.length() * size * 0.56;
  }

  static Canvas forFormat(String format, int width, int height) {
    return format.equals("svg") ? new Svg(width, height) : new Png(width, height);
  }

  /** SVG 1.1 with text as {@code <text>} elements; numbers with two decimals, so output is byte-identical run to run. */
  final class Svg implements Canvas {
    private final StringBuilder sb = new StringBuilder();

    Svg(int w, int h) {
      sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
      sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
          + " font-family=\"%s, Arial, sans-serif\">%n", w, h, w, h, FONT));
      sb.append(String.format(Locale.ROOT, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>%n", w, h));
    }

    private static String n(double v) {
      String s = String.format(Locale.ROOT, "%.2f", v);
      return s.endsWith(".00") ? s.substring(0, s.length() - 3) : s;
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, String color, double width, boolean dashed) {
      sb.append("<line x1=\"").append(n(x1)).append("\" y1=\"").append(n(y1)).append("\" x2=\"").append(n(x2)).append("\" y2=\"")
          .append(n(y2)).append("\" stroke=\"").append(color).append("\" stroke-width=\"").append(n(width)).append('"')
          .append(dashed ? " stroke-dasharray=\"5,4\"" : "").append("/>\n");
    }

    @Override
    public void polyline(List<double[]> points, String color, double width) {
      sb.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"").append(n(width)).append("\" points=\"");
      for (int i = 0; i < points.size(); i++) {
        sb.append(i == 0 ? "" : " ").append(n(points.get(i)[0])).append(',').append(n(points.get(i)[1]));
      }
      sb.append("\"/>\n");
    }

    @Override
    public void rect(double x, double y, double w, double h, String fill, String stroke) {
      sb.append("<rect x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" width=\"").append(n(w)).append("\" height=\"")
          .append(n(h)).append("\" fill=\"").append(fill == null ? "none" : fill).append('"')
          .append(stroke == null ? "" : " stroke=\"" + stroke + "\"").append("/>\n");
    }

    @Override
    public void circle(double cx, double cy, double r, String fill) {
      sb.append("<circle cx=\"").append(n(cx)).append("\" cy=\"").append(n(cy)).append("\" r=\"").append(n(r)).append("\" fill=\"")
          .append(fill).append("\"/>\n");
    }

    @Override
    public void text(double x, double y, String s, double size, Anchor anchor, boolean vertical, boolean bold) {
      sb.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" font-size=\"").append(n(size)).append('"')
          .append(switch (anchor) {
            case START -> "";
            case MIDDLE -> " text-anchor=\"middle\"";
            case END -> " text-anchor=\"end\"";
          })
          .append(bold ? " font-weight=\"bold\"" : "")
          .append(vertical ? " transform=\"rotate(-90 " + n(x) + " " + n(y) + ")\"" : "")
          .append('>').append(VerifyCommand.xml(s)).append("</text>\n");
    }

    @Override
    public byte[] bytes() {
      return (sb + "</svg>\n").getBytes(StandardCharsets.UTF_8);
    }
  }

  /** A PNG drawn with Java2D (headless), antialiased. */
  final class Png implements Canvas {
    private final BufferedImage img;
    private final Graphics2D g;

    Png(int w, int h) {
      System.setProperty("java.awt.headless", "true");
      img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      g = img.createGraphics();
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, w, h);
    }

    private static Color color(String hex) {
      return Color.decode(hex);
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, String c, double width, boolean dashed) {
      g.setColor(color(c));
      g.setStroke(dashed ? new BasicStroke((float) width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {5f, 4f}, 0f)
          : new BasicStroke((float) width));
      g.draw(new Line2D.Double(x1, y1, x2, y2));
    }

    @Override
    public void polyline(List<double[]> points, String c, double width) {
      Path2D.Double p = new Path2D.Double();
      for (int i = 0; i < points.size(); i++) {
        if (i == 0) {
          p.moveTo(points.get(i)[0], points.get(i)[1]);
        } else {
          p.lineTo(points.get(i)[0], points.get(i)[1]);
        }
      }
      g.setColor(color(c));
      g.setStroke(new BasicStroke((float) width));
      g.draw(p);
    }

    @Override
    public void rect(double x, double y, double w, double h, String fill, String stroke) {
      Rectangle2D.Double r = new Rectangle2D.Double(x, y, w, h);
      if (fill != null) {
        g.setColor(color(fill));
        g.fill(r);
      }
      if (stroke != null) {
        g.setColor(color(stroke));
        g.setStroke(new BasicStroke(1f));
        g.draw(r);
      }
    }

    @Override
    public void circle(double cx, double cy, double r, String fill) {
      g.setColor(color(fill));
      g.fill(new Ellipse2D.Double(cx - r, cy - r, 2 * r, 2 * r));
    }

    @Override
    public void text(double x, double y, String s, double size, Anchor anchor, boolean vertical, boolean bold) {
      g.setFont(new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, (int) Math.round(size)));
      g.setColor(Color.BLACK);
      double w = g.getFontMetrics().stringWidth(s);
      double dx = switch (anchor) {
        case START -> 0;
        case MIDDLE -> -w / 2;
        case END -> -w;
      };
      AffineTransform saved = g.getTransform();
      g.translate(x, y);
      if (vertical) {
        g.rotate(-Math.PI / 2);
      }
      g.drawString(s, (float) dx, 0f);
      g.setTransform(saved);
    }

    @Override
    public byte[] bytes() {
      g.dispose();
      ByteArrayOutputStream bos = new ByteArrayOutputStream();
      try {
        javax.imageio.ImageIO.write(img, "png", bos);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return bos.toByteArray();
    }
  }
}
