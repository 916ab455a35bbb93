"use client";

import { type ReactNode, useEffect, useRef, useState } from "react";

/**
 * A wide table's own sideways-scrolling box, so the page itself never scrolls sideways on a phone. When
 * the content is wider than the box, it says so in words above it (and a shadow marks the hidden edge),
 * and the box becomes a named region that takes keyboard focus, so arrow keys can scroll it. Otherwise it
 * is no landmark at all: a card and its table do not read as two regions of one name.
 */
export function ScrollBox({ label, children, fit = false }: { label: string; children: ReactNode; fit?: boolean }) {
  const box = useRef<HTMLElement>(null);
  const [overflows, setOverflows] = useState(false);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setOverflows(el.scrollWidth > el.clientWidth + 1);
    measure();
    // The box narrows with the window; the table widens when columns are shown or rows change.
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    if (el.firstElementChild) observer.observe(el.firstElementChild);
    return () => observer.disconnect();
  }, []);
  return (
    <div className={`scroll-box${fit ? " fit" : ""}`} data-overflows={overflows}>
      {overflows ? (
        <p className="scroll-hint" data-testid="scroll-hint">
          Scroll sideways for more columns <span aria-hidden="true">→</span>
        </p>
      ) : null}
      {/* Focusable only while it scrolls: a keyboard needs to reach a box to scroll it (WCAG 2.1.1). */}
      <section ref={box} className="table-scroll" aria-label={overflows ? `${label}, scrolls sideways` : undefined} tabIndex={overflows ? 0 : undefined}>
        {children}
      </section>
    </div>
  );
}
