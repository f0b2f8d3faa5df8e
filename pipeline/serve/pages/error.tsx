import { Layout } from './parts.js';

/** A request the dashboard cannot answer: what was wrong, in words, and never a stack trace. */
export function ErrorPage(props: { status: 400 | 404 | 500; message: string }) {
  const title = props.status === 400 ? 'Bad request' : props.status === 404 ? 'Not found' : 'Something went wrong';
  return (
    <Layout title={title}>
      <div class="error-box" role="alert">
        {props.message}
      </div>
      <p>
        <a href="/">Back to the overview</a>
      </p>
    </Layout>
  );
}
