package states

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/pushline/pushline/infra/states/intrinsic"
	"github.com/pushline/pushline/infra/states/jsonpath"
)

// ctxObject is the context object ($$) of state s; token is the task's
// token (waitForTaskToken). State.RetryCount is there only for the states
// that retry (Task, Parallel, Map), as on AWS.
func (x *execution) ctxObject(fr *frame, s *state, cp *checkpoint, token string) map[string]any {
	st := map[string]any{"EnteredTime": cp.EnteredTime.UTC().Format("2006-01-02T15:04:05.000Z"), "Name": s.Name}
	switch s.Type {
	case "Task", "Parallel", "Map":
		retry := 0
		for _, n := range cp.Retries {
			retry += n
		}
		st["RetryCount"] = json.Number(strconv.Itoa(retry))
	}
	c := map[string]any{
		"Execution": map[string]any{
			"Id": x.arn, "Input": x.input, "Name": x.name, "RoleArn": x.roleArn,
			"StartTime": x.start.UTC().Format("2006-01-02T15:04:05.000Z"), "RedriveCount": json.Number(strconv.Itoa(x.redriveCount)),
		},
		"State":        st,
		"StateMachine": map[string]any{"Id": x.smArn, "Name": x.smName},
	}
	if token != "" {
		c["Task"] = map[string]any{"Token": token}
	}
	if fr.mapItem != nil {
		c["Map"] = map[string]any{"Item": fr.mapItem}
	}
	return c
}

// inputPath applies the state's InputPath to v.
func (x *execution) inputPath(fr *frame, s *state, cp *checkpoint, v any) (any, *TaskError) {
	return x.selectPath(fr, s, cp, s.InputPath, v)
}

// outputPath applies the state's OutputPath to v.
func (x *execution) outputPath(fr *frame, s *state, cp *checkpoint, v any) (any, *TaskError) {
	return x.selectPath(fr, s, cp, s.OutputPath, v)
}

// selectPath applies InputPath or OutputPath p to v (or to the context
// object if p starts with $$).
func (x *execution) selectPath(fr *frame, s *state, cp *checkpoint, p path, v any) (any, *TaskError) {
	if p.ctx {
		v = x.ctxObject(fr, s, cp, "")
	}
	out, err := applyPath(p, v)
	if err != nil {
		return nil, noResults(p.src, p.p)
	}
	return out, nil
}

// noResults is the error of a path that selects nothing, worded as AWS
// words it (its JSONPath library's normalized form of the path).
func noResults(src string, p *jsonpath.Path) *TaskError {
	return &TaskError{Name: ErrNameRuntime, Cause: fmt.Sprintf("Invalid path '%s' : No results for path: %s", src, p.Normalized())}
}

// applyPath applies InputPath or OutputPath.
func applyPath(p path, v any) (any, error) {
	if p.null {
		return map[string]any{}, nil
	}
	if p.p == nil {
		return v, nil
	}
	return p.p.Get(v)
}

func applyResultPath(p path, raw, result any) (any, *TaskError) {
	if p.null {
		return raw, nil
	}
	if p.p == nil {
		return result, nil
	}
	out, err := p.p.Set(raw, result)
	if err != nil {
		return nil, &TaskError{Name: ErrNameResultPathMatch, Cause: fmt.Sprintf("Unable to apply ResultPath \"%s\" to input \"%s\"", p.p, marshal(raw))}
	}
	return out, nil
}

func (x *execution) evalTmpl(s *state, cp *checkpoint, t *tmpl, input, ctx any) (any, *TaskError) {
	switch t.kind {
	case 'l':
		return t.lit, nil
	case 'a':
		out := make([]any, len(t.items))
		for i, it := range t.items {
			v, err := x.evalTmpl(s, cp, it, input, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	out := make(map[string]any, len(t.fields))
	for _, f := range t.fields {
		if f.sub != nil {
			v, err := x.evalTmpl(s, cp, f.sub, input, ctx)
			if err != nil {
				return nil, err
			}
			out[f.key] = v
			continue
		}
		v, err := f.ref.eval(input, ctx)
		if err != nil {
			return nil, refError(s, cp, f.ref, f.key+".$", input, err)
		}
		out[f.key] = v
	}
	return out, nil
}

func refError(s *state, cp *checkpoint, r *ref, field string, input any, err error) *TaskError {
	switch {
	case errors.Is(err, intrinsic.ErrFailure):
		te := runtimeErr(s, cp, "The evaluation of the intrinsic function for the field '%s' failed: %s", field, err.Error())
		te.Name = ErrNameIntrinsicFailure
		return te
	case errors.Is(err, intrinsic.ErrPath):
		return runtimeErr(s, cp, "The evaluation of the intrinsic function for the field '%s' failed: %s", field, err.Error())
	}
	return runtimeErr(s, cp, "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", r.src, field, marshal(input))
}

func (x *execution) finish(fr *frame, s *state, cp *checkpoint, result any) (any, *TaskError) {
	if s.Selector != nil {
		v, terr := x.evalTmpl(s, cp, s.Selector, result, x.ctxObject(fr, s, cp, ""))
		if terr != nil {
			return nil, terr
		}
		result = v
	}
	out, terr := applyResultPath(s.ResultPath, cp.Input, result)
	if terr != nil {
		return nil, terr
	}
	return x.outputPath(fr, s, cp, out)
}
