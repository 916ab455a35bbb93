/** A labelled input whose errors are tied to it with aria-describedby (and announced by the form's status). */
export function Field(props: { name: string; label: string; type?: string; autoComplete: string; errors?: string[] }) {
  const errorId = `${props.name}-error`;
  return (
    <div className="field">
      <label htmlFor={props.name}>{props.label}</label>
      <input
        id={props.name}
        name={props.name}
        type={props.type ?? "text"}
        autoComplete={props.autoComplete}
        required
        aria-invalid={props.errors ? true : undefined}
        aria-describedby={props.errors ? errorId : undefined}
      />
      {props.errors ? (
        <p id={errorId} className="field-error">
          {props.errors.join(" ")}
        </p>
      ) : null}
    </div>
  );
}
