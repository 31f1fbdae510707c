package states

// pass runs a Pass state.
func (x *execution) pass(fr *frame, s *state, cp *checkpoint) (any, *TaskError) {
	eff, terr := x.inputPath(fr, s, cp, cp.Input)
	if terr != nil {
		return nil, terr
	}
	result := eff
	if s.Parameters != nil {
		var cobj any
		if s.Parameters.usesCtx {
			cobj = x.ctxObject(fr, s, cp, "")
		}
		v, terr := x.evalTmpl(s, cp, s.Parameters, eff, cobj)
		if terr != nil {
			return nil, terr
		}
		result = v
	}
	if s.hasResult {
		result = s.Result
	}
	out, terr := applyResultPath(s.ResultPath, cp.Input, result)
	if terr != nil {
		return nil, terr
	}
	return x.outputPath(fr, s, cp, out)
}

// succeed runs a Succeed state: the end of its state list.
func (x *execution) succeed(fr *frame, s *state, cp *checkpoint) (any, string, *TaskError) {
	eff, terr := x.inputPath(fr, s, cp, cp.Input)
	if terr != nil {
		return nil, "", terr
	}
	out, terr := x.outputPath(fr, s, cp, eff)
	return out, "", terr
}

// fail runs a Fail state: the error that ends its state list.
func (x *execution) fail(fr *frame, s *state, cp *checkpoint) *TaskError {
	te := &TaskError{Name: s.Error, Cause: s.Cause}
	for _, p := range []struct {
		r   *ref
		dst *string
	}{{s.ErrorPath, &te.Name}, {s.CausePath, &te.Cause}} {
		if p.r == nil {
			continue
		}
		v, err := p.r.eval(cp.Input, x.ctxObject(fr, s, cp, ""))
		if err != nil {
			if p.r.call != nil {
				return refError(s, cp, p.r, "ErrorPath/CausePath", cp.Input, err)
			}
			return p.r.noResults()
		}
		str, ok := v.(string)
		if !ok {
			return runtimeErr(s, cp, "The value of '%s' must be a string", p.r.src)
		}
		*p.dst = str
	}
	return te
}
