/** A labelled input whose errors are tied to it with aria-describedby (and announced by the form's status). */
export function Field(props: {
  name: string;
  label: string;
  type?: string;
  autoComplete: string;
  errors?: string[];
  /** What was typed before a server-side error (never a password), so a failed submit loses nothing. */
  defaultValue?: string;
  required?: boolean;
  hint?: string;
}) {
  const errorId = `${props.name}-error`;
  const hintId = `${props.name}-hint`;
  const describedBy = [props.hint ? hintId : "", props.errors ? errorId : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={props.name}>{props.label}</label>
      <input
        id={props.name}
        name={props.name}
        type={props.type ?? "text"}
        autoComplete={props.autoComplete}
        defaultValue={props.defaultValue}
        required={props.required ?? true}
        aria-invalid={props.errors ? true : undefined}
        aria-describedby={describedBy}
      />
      {props.hint ? (
        <p id={hintId} className="muted field-hint">
          {props.hint}
        </p>
      ) : null}
      {props.errors ? (
        <p id={errorId} className="field-error">
          {props.errors.join(" ")}
        </p>
      ) : null}
    </div>
  );
}
